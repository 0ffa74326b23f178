"""The personal joining link in a registrant's own invite (issue 13 items 5 and 7): an RFC
7986 CONFERENCE property for online and hybrid events, nothing for in-person ones; sent
through the real SMTP server and read back with two parsers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import vobject  # type: ignore[import-untyped]
from icalendar import Calendar

from events.calendar import builders
from events.catalog.models import EventFormat
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from tests.factories import Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, mail_worker, text_of, to, vevent_of

SECRET_ROOM = "secret-room-123"


async def test_own_invite_carries_conference_for_online_and_hybrid_events_only(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    online = await make.event("Online")
    hybrid = await make.event("Hybrid", format=EventFormat.hybrid, venue_name="Hall")
    in_person = await make.event("In person", format=EventFormat.in_person, venue_name="Hall")
    addresses = {online.id: "on@example.org", hybrid.id: "hy@example.org"}
    addresses[in_person.id] = "in@example.org"
    for event in (online, hybrid, in_person):
        await register(make, event, addresses[event.id])
    await mail_worker(database, clock, settings, smtp.url).drain()
    received = smtp.recorder.messages()

    for event in (online, hybrid):
        [message] = to(received, addresses[event.id])
        _, vevent = vevent_of(message)
        conference = vevent["CONFERENCE"]
        link = str(conference)
        assert link.startswith("http://testserver/j/"), event.title
        assert link in text_of(message)  # the same personal link as the email's
        assert conference.params["FEATURE"] == "VIDEO"
        assert conference.params["VALUE"] == "URI"
        part = calendar_part(message)
        assert part is not None
        raw = part.get_content()
        parsed = vobject.readOne(raw if isinstance(raw, str) else raw.decode())
        assert parsed.vevent.conference.value == link

    [message] = to(received, addresses[in_person.id])
    _, vevent = vevent_of(message)
    assert "CONFERENCE" not in vevent
    part = calendar_part(message)
    assert part is not None
    raw = part.get_content()
    ics = raw if isinstance(raw, str) else raw.decode()
    assert "/j/" not in ics and SECRET_ROOM not in ics
    assert "/j/" not in text_of(message)


def _view(**changes: object) -> builders.EventView:
    moment = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
    view = builders.EventView(
        uid="u@events",
        slug="an-event",
        title="Workload",
        summary="",
        description="",
        starts_at=moment,
        ends_at=moment + dt.timedelta(hours=1),
        timezone="Europe/London",
        all_day=False,
        venue_name="Hall",
        venue_address="",
        town="",
        postcode="",
        organiser_name="Events team",
        organiser_email="events@example.org",
        ical_sequence=0,
        updated_at=moment,
        cancelled=False,
        online=False,
    )
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


def test_builder_never_writes_a_joining_link_for_in_person_or_cancelled_events() -> None:
    link = "https://events.example.org/j/personal"
    attendee = builders.Attendee("Sam", "sam@example.org")
    stamp = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    page = "https://events.example.org/events/an-event"
    for view, expected in [
        (_view(online=True), True),
        (_view(hybrid=True), True),
        (_view(), False),  # in person
        (_view(online=True, cancelled=True), False),
        (_view(hybrid=True, cancelled=True), False),
    ]:
        ics = builders.invite(
            view, attendee, "REQUEST", stamp=stamp, page_url=page, joining_url=link
        )
        feed = builders.vevent(view, page_url=page, joining_url=link)
        for body in (ics, feed):
            assert (link in body.replace(b"\r\n ", b"").decode()) is expected, view
            if expected:
                [vevent] = Calendar.from_ical(
                    body
                    if body.startswith(b"BEGIN:VCALENDAR")
                    else builders.wrap([(body, None)], name="test")
                ).walk("VEVENT")
                assert str(vevent["CONFERENCE"]) == link
