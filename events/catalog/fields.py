"""The one list of an event's editable fields, and the rules its values must meet.

``EventInput`` *is* the list: each of its fields carries a ``FieldSpec`` saying what kind of
value it holds, how long it may be, whether it shows in the calendar invite (``invite``,
which every field must decide), whether the audit log may show it, and which control of the
console's form edits it.
Create, update, the change record, duplicate, the write API's bodies (``api/schemas.py``)
and the console form (``organiser/event_forms.py``) are all derived from it. Adding a field
means: the model, a migration, a field here, and the form's template.

Values are plain (slugs and codes, never rows): the lifecycle service resolves them.
"""

# ruff: noqa: RUF009  (each field's spec is dataclass metadata, built once at import)
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from events.catalog.models import DEFAULT_REMINDER_OFFSETS, Event, EventFormat, EventKind


class FieldKind(enum.StrEnum):
    text = "text"  # a string (empty when not given)
    choice = "choice"  # a member of ``FieldSpec.choices``
    moment = "moment"  # an aware datetime
    flag = "flag"  # a boolean
    number = "number"  # a whole number (of places); None: no limit
    slug = "slug"  # the event's own web address
    ref = "ref"  # one row named by its slug (region, series, campaign)
    refs = "refs"  # rows named by their slugs (topics)
    codes = "codes"  # reference data named by code (access provisions)
    minutes = "minutes"  # minutes before the start (reminders)


class Shown(enum.StrEnum):
    """Whether a field shows in the calendar invite (``calendar/builders.py``), so whether
    changing it must update the entry in registrants' calendars.
    ``tests/calendar/test_invite_fields.py`` builds the invite to check every mark."""

    no = "no"  # not in the invite: a change sends nothing and keeps the iCal sequence
    invite = "invite"  # in the invite: confirmed places get an update (METHOD:REQUEST)
    moves = "moves"  # the time or the place: the waiting list is told as well (plain email)


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    kind: FieldKind
    invite: Shown  # no default: a new field must say whether it shows in the invite
    doc: str = ""  # what the write API's document says about it
    max_length: int | None = None
    min_length: int = 0
    nullable: bool = False  # may be empty (None): no limit, no region, not in a series...
    secret: bool = False  # the audit log says that it changed, never what it is
    form: str = ""  # the console form's control (for a moment, the prefix of date and time)
    choices: type[enum.Enum] | None = None
    attribute: str = ""  # the model's attribute, when it is not the field's name


def _spec(default: Any = dataclasses.MISSING, **spec: Any) -> Any:
    metadata = {"spec": FieldSpec(**spec)}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    if isinstance(default, tuple | list):
        value = tuple(default)
        return dataclasses.field(default=value, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


K = FieldKind
S = Shown


@dataclass(frozen=True)
class EventInput:
    """An event as its organiser describes it. Times are aware; they are stored in UTC."""

    # ``invite``: see ``Shown``. The invite shows the title, the summary and description,
    # the times, the place, how it is held (with the personal joining link for online and
    # hybrid events), the organiser (ORGANIZER) and the event page's address (URL).
    title: str = _spec(kind=K.text, invite=S.invite, max_length=200, min_length=1)
    kind: EventKind = _spec(kind=K.choice, invite=S.no, choices=EventKind)
    format: EventFormat = _spec(kind=K.choice, invite=S.moves, choices=EventFormat)
    starts_at: dt.datetime = _spec(
        kind=K.moment,
        invite=S.moves,
        form="start",
        doc="With its UTC offset, e.g. 2026-03-30T16:00:00+01:00.",
    )
    ends_at: dt.datetime = _spec(
        kind=K.moment, invite=S.moves, form="end", doc="After `starts_at`."
    )
    timezone: str = _spec(
        "Europe/London",
        kind=K.text,
        invite=S.moves,
        max_length=64,
        doc="The IANA zone the event is shown in, e.g. Europe/London.",
    )
    summary: str = _spec("", kind=K.text, invite=S.invite, max_length=1000)
    description: str = _spec("", kind=K.text, invite=S.invite, max_length=50_000, doc="Markdown.")
    all_day: bool = _spec(False, kind=K.flag, invite=S.moves)
    venue_name: str = _spec("", kind=K.text, invite=S.moves, max_length=200)
    venue_address: str = _spec("", kind=K.text, invite=S.moves, max_length=1000)
    town: str = _spec("", kind=K.text, invite=S.moves, max_length=120)
    postcode: str = _spec("", kind=K.text, invite=S.moves, max_length=10)
    # For the listing's filters; the invite's LOCATION does not name it.
    region: str | None = _spec(
        None, kind=K.ref, invite=S.no, nullable=True, doc="A region's slug, e.g. `north-west`."
    )
    # The invite carries the personal link (/j/...) that leads to it, not the link itself;
    # those entitled to it are still told when it changes.
    joining_url: str = _spec(
        "",
        kind=K.text,
        invite=S.invite,
        max_length=1000,
        secret=True,
        doc="The online room (https). Private: only confirmed attendees get it, through "
        "their personal link.",
    )
    capacity: int | None = _spec(
        None,
        kind=K.number,
        invite=S.no,
        nullable=True,
        doc="Confirmed places in all; null for unlimited. Raising it promotes people waiting.",
    )
    waiting_list_enabled: bool = _spec(False, kind=K.flag, invite=S.no)
    registration_opens_at: dt.datetime | None = _spec(
        None, kind=K.moment, invite=S.no, nullable=True, form="opens"
    )
    registration_closes_at: dt.datetime | None = _spec(
        None, kind=K.moment, invite=S.no, nullable=True, form="closes"
    )
    members_only: bool = _spec(False, kind=K.flag, invite=S.no)
    access: tuple[str, ...] = _spec(
        (),
        kind=K.codes,
        invite=S.no,
        max_length=40,
        attribute="access_provisions",
        doc="Access provision codes, e.g. `step_free`, `bsl`.",
    )
    access_notes: str = _spec("", kind=K.text, invite=S.no, max_length=5000)
    organiser_name: str = _spec("", kind=K.text, invite=S.invite, max_length=200)
    organiser_email: str = _spec("", kind=K.text, invite=S.invite, max_length=320)
    topics: tuple[str, ...] = _spec((), kind=K.refs, invite=S.no, doc="Topic slugs.")
    series: str | None = _spec(None, kind=K.ref, invite=S.no, nullable=True)
    campaign: str | None = _spec(None, kind=K.ref, invite=S.no, nullable=True)
    # None keeps the current address (a new event's comes from its title). The invite's URL
    # is the event page's.
    slug: str | None = _spec(
        None,
        kind=K.slug,
        invite=S.invite,
        nullable=True,
        max_length=100,
        doc="The event's web address; changing it breaks links already shared.",
    )
    reminder_offsets: tuple[int, ...] = _spec(
        DEFAULT_REMINDER_OFFSETS,
        kind=K.minutes,
        invite=S.no,
        form="reminders",
        doc="Minutes before the start at which registrants are reminded.",
    )
    # Not an editable field: who owns a new event (None: admins only).
    owner_id: int | None = None


def _specs() -> dict[str, FieldSpec]:
    found: dict[str, FieldSpec] = {}
    for item in dataclasses.fields(EventInput):
        spec = item.metadata.get("spec")
        if isinstance(spec, FieldSpec):
            found[item.name] = dataclasses.replace(spec, form=spec.form or item.name)
    return found


# name -> spec, in the order the form and the change record show them.
EDITABLE: Mapping[str, FieldSpec] = _specs()
# Fields that need a value on a new event (the write API's EventCreate requires them).
REQUIRED_ON_CREATE = tuple(
    item.name
    for item in dataclasses.fields(EventInput)
    if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
)
# A change to any of these changes the calendar invite: the iCal sequence goes up and every
# confirmed registrant is sent the update (METHOD:REQUEST). The update email names them in
# this order: when first, then how and where, then the rest.
_WHEN = ("starts_at", "ends_at", "timezone", "all_day")
INVITE_FIELDS = tuple(
    sorted(
        (name for name, spec in EDITABLE.items() if spec.invite != Shown.no),
        key=lambda name: 0 if name in _WHEN else 1 if EDITABLE[name].invite == Shown.moves else 2,
    )
)
# The time or the place: a change also tells the waiting list (a plain email).
MOVE_FIELDS = tuple(name for name in INVITE_FIELDS if EDITABLE[name].invite == Shown.moves)
HIDDEN_IN_AUDIT = frozenset(name for name, spec in EDITABLE.items() if spec.secret)
# Fields that always hold a value: null cannot clear them.
NEVER_EMPTY = frozenset(name for name, spec in EDITABLE.items() if not spec.nullable)


def validate_event_input(data: EventInput) -> dict[str, str]:
    """The field rules an event must meet; returns messages keyed by field."""
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = "Enter a title."
    for name, spec in EDITABLE.items():
        value = getattr(data, name)
        if spec.kind == K.moment and value is not None and value.tzinfo is None:
            errors[name] = "Give the time with its time zone."
    if "starts_at" not in errors and "ends_at" not in errors and data.ends_at <= data.starts_at:
        errors["ends_at"] = "The event must end after it starts."
    try:
        ZoneInfo(data.timezone)
    except (ValueError, KeyError):
        errors["timezone"] = "Choose a time zone such as Europe/London."
    if data.capacity is not None and data.capacity < 0:
        errors["capacity"] = "Capacity cannot be negative."
    if (
        data.registration_opens_at
        and data.registration_closes_at
        and data.registration_closes_at <= data.registration_opens_at
    ):
        errors["registration_closes_at"] = "Registration must close after it opens."
    if data.joining_url and not data.joining_url.startswith("https://"):
        errors["joining_url"] = "The joining link must be an https:// address."
    return errors


def stored_value(name: str, value: Any) -> Any:
    """A field's value as the event would store (and ``event_values`` read) it."""
    kind = EDITABLE[name].kind
    if name == "title":
        return value.strip()
    if name == "postcode":
        return value.upper().strip()
    if kind == K.ref:
        return value or None
    if kind == K.refs:
        return sorted(set(value))
    if kind == K.codes:
        return list(dict.fromkeys(value))
    if kind == K.minutes:
        return sorted(set(value), reverse=True)
    return value


def event_values(event: Event) -> dict[str, Any]:
    """The editable fields of a loaded event (see ``lifecycle.event_with_details``) as plain
    values: groupings as slugs, access provisions as codes. Comparable with
    ``stored_value``; the write API starts a partial update from these."""
    values: dict[str, Any] = {}
    for name, spec in EDITABLE.items():
        current = getattr(event, spec.attribute or name)
        if spec.kind == K.ref:
            values[name] = current.slug if current is not None else None
        elif spec.kind == K.refs:
            values[name] = sorted(row.slug for row in current)
        elif spec.kind == K.codes:
            values[name] = [row.code for row in current]
        elif spec.kind == K.minutes:
            values[name] = sorted(current, reverse=True)
        else:
            values[name] = current
    return values


def input_values(values: Mapping[str, Any], **extra: Any) -> EventInput:
    """An ``EventInput`` from plain values keyed by field name (as ``event_values`` gives
    them, or a write API body); sequences become tuples."""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        if name not in EDITABLE:
            continue
        if EDITABLE[name].kind in (K.refs, K.codes, K.minutes):
            value = tuple(value)
        fields[name] = value
    return EventInput(**{**fields, **extra})
