"""The fields marked as shown in the invite (``catalog.fields``: ``FieldSpec.invite``) are
exactly those that change the invite the calendar room builds (issue 13 item 3).

Each editable field of an event is changed in turn, the update invite a confirmed place gets
is built again by the real builder (``calendar.invites.registration_invite``), and the bytes
are compared. A field that changes the invite but is marked ``Shown.no`` would leave
calendars stale (no update is sent for it); one marked but never shown would send updates
that change nothing. So a new field, or a new property in the VEVENT, cannot drift from the
list. The second test does the same for the time and place (``Shown.moves``: what the waiting
list is told about), read back with a second parser (vobject).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest
import vobject  # type: ignore[import-untyped]

from events.calendar.invites import registration_invite
from events.catalog.fields import EDITABLE, INVITE_FIELDS, MOVE_FIELDS, FieldKind, Shown
from events.catalog.models import (
    AccessProvision,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Region,
    Series,
    Topic,
)
from events.mail.compose import Outgoing
from tests.calendar.helpers import _forget_vobject_zones

START = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
STAMP = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
# Shown, but not as its own value: the invite carries the personal link (/j/...) that leads
# to the joining link, so a new link leaves the bytes alone. Those entitled to it are still
# sent the update, as issue 13 item 3 asks.
SHOWN_THROUGH_THE_PERSONAL_LINK = frozenset({"joining_url"})


def _event() -> Event:
    return Event(
        id=7,
        uid="evt-7@events.example.org",
        slug="workload-clinic",
        status=EventStatus.published,
        title="Workload clinic",
        kind=EventKind.webinar,
        format=EventFormat.hybrid,
        starts_at=START,
        ends_at=START + dt.timedelta(hours=2),
        timezone="Europe/London",
        summary="Bring your timetable.",
        description="We look at **directed time**.",
        all_day=False,
        venue_name="Hamilton House",
        venue_address="Mabledon Place",
        town="London",
        postcode="WC1H 9BD",
        region=Region(slug="london", name="London"),
        joining_url="",
        capacity=None,
        places_left=None,
        waiting_list_enabled=False,
        registration_opens_at=None,
        registration_closes_at=None,
        members_only=False,
        access_provisions=[],
        access_notes="",
        organiser_name="Priya Organiser",
        organiser_email="priya@union.example.org",
        topics=[],
        series=None,
        campaign=None,
        reminder_offsets=[1440, 60],
        ical_sequence=3,
        updated_at=STAMP,
    )


def _others(name: str, current: Any) -> list[Any]:
    """Other values the field could take (as the model holds them)."""
    kind = EDITABLE[name].kind
    special: dict[str, list[Any]] = {
        "joining_url": ["https://meet.example.org/room"],
        "organiser_email": ["other@union.example.org", ""],
        "timezone": ["America/New_York"],
        "postcode": ["M1 1AA"],
        "slug": ["directed-time"],
        "region": [Region(slug="north-west", name="North West"), None],
        "series": [Series(slug="pay", title="Pay")],
        "campaign": [
            Campaign(
                slug="week",
                title="Week",
                starts_on=dt.date(2026, 6, 1),
                ends_on=dt.date(2026, 6, 30),
            )
        ],
        "access": [[AccessProvision(code="bsl", name="BSL interpretation")]],
        "topics": [[Topic(slug="send", name="SEND")]],
    }
    if name in special:
        return special[name]
    if kind == FieldKind.text:
        return [f"{current} (changed)", ""]
    if kind == FieldKind.choice:
        choices = EDITABLE[name].choices
        assert choices is not None
        members: list[enum.Enum] = list(choices)
        return [member for member in members if member != current]
    if kind == FieldKind.moment:
        base = current if current is not None else START - dt.timedelta(days=7)
        return [base + dt.timedelta(hours=1), base - dt.timedelta(hours=1)]
    if kind == FieldKind.flag:
        return [not current]
    if kind == FieldKind.number:
        return [5, 0]
    if kind == FieldKind.minutes:
        return [[15]]
    raise AssertionError(f"no other values for {name} ({kind})")


def _invite(event: Event) -> bytes:
    outgoing = Outgoing(
        id=41,
        kind="event_updated",
        recipient="sam@example.org",
        payload={
            "registration_id": 3,
            "event_id": 7,
            "name": "Sam Teacher",
            "status": "confirmed",
            "manage_token": "manage-abc",
            "join_token": "join-xyz",
            "calendar_token": "cal-123",
            "sequence": 4,
        },
        dedupe_key="k",
        created_at=STAMP,
    )
    part = registration_invite(
        outgoing, event, None, "https://events.example.org", "Events <events@example.org>"
    )
    assert part is not None and part.method == "REQUEST"
    return part.ics


def _changed_by(name: str, read: Any) -> bool:
    """Whether any other value of the field changes what ``read`` takes from the invite."""
    before = read(_invite(_event()))
    for value in _others(name, getattr(_event(), EDITABLE[name].attribute or name)):
        event = _event()
        setattr(event, EDITABLE[name].attribute or name, value)
        if read(_invite(event)) != before:
            return True
    return False


@pytest.mark.parametrize("name", list(EDITABLE))
def test_a_field_is_marked_as_shown_exactly_when_it_changes_the_invite(name: str) -> None:
    marked = EDITABLE[name].invite != Shown.no
    assert marked == (name in INVITE_FIELDS)
    if name in SHOWN_THROUGH_THE_PERSONAL_LINK:
        assert marked and not _changed_by(name, bytes), name
        return
    shown = _changed_by(name, bytes)
    assert shown == marked, (
        f"{name} {'changes' if shown else 'does not change'} the invite but is marked "
        f"invite={EDITABLE[name].invite.value} in catalog/fields.py"
    )


def _time_and_place(ics: bytes) -> tuple[str, ...]:
    """DTSTART, DTEND (with their zone) and LOCATION, as vobject reads them."""
    _forget_vobject_zones()
    calendar: Any = vobject.readOne(ics.decode("utf-8"))
    vevent = calendar.vevent
    location = vevent.location.value if hasattr(vevent, "location") else ""
    return (
        repr(vevent.dtstart.value),
        str(vevent.dtstart.params),
        repr(vevent.dtend.value),
        str(vevent.dtend.params),
        location,
    )


@pytest.mark.parametrize("name", list(EDITABLE))
def test_a_field_moves_the_event_exactly_when_it_changes_its_time_or_place(name: str) -> None:
    moves = EDITABLE[name].invite == Shown.moves
    assert moves == (name in MOVE_FIELDS)
    assert _changed_by(name, _time_and_place) == moves, name
