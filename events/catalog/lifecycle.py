"""An event's lifecycle: create, update (reschedule, move, resize), publish, unpublish,
cancel and duplicate.

Each operation changes the event and returns an ``EventChange``: a frozen record of what it
did (fields with their old and new values, whether the calendar invite changed and whether
the time or place moved, the capacity asked for, the status before and after). It reacts
to nothing itself: notices to registrants, topic alerts, the capacity recount and
promotions, and the audit log are applied from that record by ``events.lifecycle``, one
level up, so this package imports none of the rooms that react to it.

Services take ``(session, clock, ...)``, flush, and never commit.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.fields import (
    EDITABLE,
    INVITE_FIELDS,
    MOVE_FIELDS,
    EventInput,
    FieldKind,
    event_values,
    input_values,
    stored_value,
    validate_event_input,
)
from events.catalog.models import (
    AccessProvision,
    Campaign,
    Event,
    EventStatus,
    Region,
    Series,
    Topic,
)
from events.catalog.queries import event_load_options, postcode_district
from events.catalog.slugs import SLUG, SLUG_MESSAGE, slugify, unique_slug
from events.clock import Clock
from events.errors import Conflict, InvalidInput


class Operation(enum.StrEnum):
    created = "created"
    updated = "updated"
    published = "published"
    unpublished = "unpublished"
    cancelled = "cancelled"
    duplicated = "duplicated"


@dataclass(frozen=True)
class FieldChange:
    old: Any
    new: Any


@dataclass(frozen=True)
class EventChange:
    """What one lifecycle operation did to ``event``. An operation that changed nothing
    (a resave, a second publish or cancel) has no fields and no status change.

    ``capacity`` is recorded, not applied: places are recounted (and people waiting
    promoted) by the registration room, which ``events.lifecycle`` calls."""

    operation: Operation
    event: Event
    fields: Mapping[str, FieldChange] = field(default_factory=dict)
    status_before: EventStatus | None = None
    status_after: EventStatus | None = None
    sequence_before: int | None = None
    sequence_after: int | None = None
    source: Event | None = None  # what a duplicate was copied from

    @property
    def changed(self) -> list[str]:
        return list(self.fields)

    @property
    def shown(self) -> list[str]:
        """The changed fields that show in the calendar invite (``fields.INVITE_FIELDS``),
        in the order the update email names them."""
        return [name for name in INVITE_FIELDS if name in self.fields]

    @property
    def invite_changed(self) -> bool:
        """An edit that changed the invite: the sequence went up, confirmed places are sent
        the update."""
        return bool(self.shown) and self.operation == Operation.updated

    @property
    def moved(self) -> list[str]:
        """The changed fields that are the event's time or place (``fields.MOVE_FIELDS``)."""
        return [name for name in MOVE_FIELDS if name in self.fields]

    @property
    def times_or_place_changed(self) -> bool:
        """An edit that moved the event: the waiting list is told as well."""
        return bool(self.moved) and self.operation == Operation.updated

    @property
    def status_changed(self) -> bool:
        return self.status_before != self.status_after

    @property
    def capacity(self) -> FieldChange | None:
        return self.fields.get("capacity")

    @property
    def capacity_delta(self) -> int | None:
        """New capacity minus old; None when unchanged or either side is unlimited."""
        change = self.capacity
        if change is None or change.old is None or change.new is None:
            return None
        delta: int = change.new - change.old
        return delta

    @property
    def nothing(self) -> bool:
        return not self.fields and not self.status_changed and self.source is None


# Resolving the plain values of an EventInput -----------------------------------------


@dataclass(frozen=True)
class _Rows:
    region: Region | None
    provisions: list[AccessProvision]
    topics: list[Topic]
    series: Series | None
    campaign: Campaign | None

    def value(self, name: str) -> Any:
        """The resolved rows of a grouping field, keyed as on the model."""
        return {
            "region": self.region,
            "access": self.provisions,
            "topics": self.topics,
            "series": self.series,
            "campaign": self.campaign,
        }[name]


async def _one(session: AsyncSession, model: Any, column: Any, value: str | None) -> Any:
    if not value:
        return None
    return (await session.execute(select(model).where(column == value))).scalar_one_or_none()


async def _resolve(session: AsyncSession, data: EventInput) -> _Rows:
    """The rows ``data`` names by slug or code, or InvalidInput naming every field whose
    choice does not exist (any more)."""
    errors: dict[str, str] = {}
    region = await _one(session, Region, Region.slug, data.region)
    if data.region and region is None:
        errors["region"] = "Choose a region from the list."
    provisions: list[AccessProvision] = []
    if data.access:
        found = await session.execute(
            select(AccessProvision).where(AccessProvision.code.in_(data.access))
        )
        provisions = sorted(found.scalars(), key=lambda p: p.sort_order)
        if len(provisions) != len(set(data.access)):
            errors["access"] = "Choose access provisions from the list."
    topics: list[Topic] = []
    if data.topics:
        rows = await session.execute(select(Topic).where(Topic.slug.in_(data.topics)))
        topics = sorted(rows.scalars(), key=lambda t: (t.sort_order, t.name))
        if len(topics) != len(set(data.topics)):
            errors["topics"] = "Choose topics from the list."
    series = await _one(session, Series, Series.slug, data.series)
    if data.series and series is None:
        errors["series"] = "Choose a series from the list."
    campaign = await _one(session, Campaign, Campaign.slug, data.campaign)
    if data.campaign and campaign is None:
        errors["campaign"] = "Choose a campaign from the list."
    if errors:
        raise InvalidInput(errors)
    return _Rows(region, provisions, topics, series, campaign)


def check(data: EventInput) -> None:
    errors = validate_event_input(data)
    if data.slug is not None and not SLUG.match(data.slug):
        errors.setdefault("slug", SLUG_MESSAGE)
    if errors:
        raise InvalidInput(errors)


def _wanted(data: EventInput, current: Event | None, rows: _Rows) -> dict[str, Any]:
    """The values ``data`` asks for, comparable with ``event_values``."""
    wanted = {name: stored_value(name, getattr(data, name)) for name in EDITABLE}
    wanted["access"] = [p.code for p in rows.provisions]
    if data.slug is None and current is not None:
        wanted["slug"] = current.slug
    return wanted


def _write(event: Event, name: str, value: Any, rows: _Rows) -> None:
    """Set one field on the event. Capacity is not written here (see ``EventChange``)."""
    spec = EDITABLE[name]
    if name == "capacity":
        return
    if spec.kind in (FieldKind.ref, FieldKind.refs, FieldKind.codes):
        resolved = rows.value(name)
        setattr(
            event,
            spec.attribute or name,
            list(resolved) if spec.kind != FieldKind.ref else resolved,
        )
        return
    setattr(event, spec.attribute or name, list(value) if spec.kind == FieldKind.minutes else value)
    if name == "postcode":
        event.postcode_district = postcode_district(value)


async def event_with_details(session: AsyncSession, event_id: int) -> Event:
    """The event with everything a console page or a change compares, loaded and current."""
    query = (
        select(Event)
        .where(Event.id == event_id)
        .options(*event_load_options())
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().unique().one()


# Operations ---------------------------------------------------------------------------


async def create_event(
    session: AsyncSession, clock: Clock, data: EventInput, *, publish: bool = False
) -> EventChange:
    """Create an event as a draft (or published at once). Its places start at capacity."""
    check(data)
    rows = await _resolve(session, data)
    wanted = _wanted(data, None, rows)
    now = clock.now()
    status = EventStatus.published if publish else EventStatus.draft
    event = Event(
        slug=await unique_slug(session, Event, data.slug or slugify(data.title)),
        status=status,
        capacity=data.capacity,
        places_left=data.capacity,
        ical_sequence=0,
        owner_id=data.owner_id,
        created_at=now,
        updated_at=now,
        published_at=now if publish else None,
    )
    for name, value in wanted.items():
        if name != "slug":
            _write(event, name, value, rows)
    session.add(event)
    await session.flush()
    values = {**wanted, "slug": event.slug}
    return EventChange(
        operation=Operation.created,
        event=event,
        fields={name: FieldChange(None, value) for name, value in values.items()},
        status_after=status,
        sequence_after=0,
    )


async def update_event(
    session: AsyncSession, clock: Clock, *, event: Event, data: EventInput
) -> EventChange:
    """Apply an edit. A save that changes nothing does nothing. A change to anything the
    calendar invite shows (``fields.INVITE_FIELDS``) raises the iCal sequence (it only ever
    goes up); any other change keeps it. The slug changes only
    when ``data.slug`` names a new one. A cancelled event cannot be edited. The capacity
    asked for is in the record; the caller recounts places (``events.lifecycle``).

    Call it under the event's lock, so two reschedules raise the sequence in order."""
    check(data)
    event = await event_with_details(session, event.id)
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot be changed.", code="event_cancelled")
    if data.slug is not None and data.slug != event.slug:
        taken = await session.execute(
            select(Event.id).where(Event.slug == data.slug, Event.id != event.id)
        )
        if taken.first() is not None:
            raise InvalidInput({"slug": "Another event already uses that web address."})
    rows = await _resolve(session, data)
    before = event_values(event)
    after = _wanted(data, event, rows)
    fields = {
        name: FieldChange(before[name], value)
        for name, value in after.items()
        if before[name] != value
    }
    if not fields:
        return EventChange(operation=Operation.updated, event=event)
    for name, change in fields.items():
        _write(event, name, change.new, rows)
    event.updated_at = clock.now()
    sequence = event.ical_sequence
    if any(name in fields for name in INVITE_FIELDS):
        event.ical_sequence += 1
    await session.flush()
    return EventChange(
        operation=Operation.updated,
        event=event,
        fields=fields,
        status_before=event.status,
        status_after=event.status,
        sequence_before=sequence,
        sequence_after=event.ical_sequence,
    )


async def publish_event(session: AsyncSession, clock: Clock, event: Event) -> EventChange:
    """Put a draft on the public pages. Publishing twice changes nothing."""
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot be published again.", code="event_cancelled")
    if event.status != EventStatus.draft:
        return EventChange(operation=Operation.published, event=event)
    event.status = EventStatus.published
    event.published_at = event.updated_at = clock.now()
    await session.flush()
    return EventChange(
        operation=Operation.published,
        event=event,
        status_before=EventStatus.draft,
        status_after=EventStatus.published,
    )


async def unpublish_event(
    session: AsyncSession, clock: Clock, event: Event, *, has_registrations: bool
) -> EventChange:
    """Take a published event back to draft (off every public page and feed). Refused once
    anyone holds a place or waits for one (``has_registrations``, counted under the
    event's lock by the caller): their emails link to the event, so it must be cancelled
    instead, which tells them."""
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot go back to draft.", code="event_cancelled")
    if event.status == EventStatus.draft:
        return EventChange(operation=Operation.unpublished, event=event)
    if has_registrations:
        raise Conflict(
            "People have registered for this event, so it cannot go back to draft. "
            "Cancel it instead: everyone registered will be told.",
            code="event_has_registrations",
        )
    event.status = EventStatus.draft
    event.published_at = None
    event.updated_at = clock.now()
    await session.flush()
    return EventChange(
        operation=Operation.unpublished,
        event=event,
        status_before=EventStatus.published,
        status_after=EventStatus.draft,
    )


async def cancel_event(session: AsyncSession, clock: Clock, event: Event) -> EventChange:
    """Cancel an event; its iCal sequence goes up so calendars replace their copy.
    Registrations stay, for the record. Cancelling twice changes nothing. Call it under
    the event's lock, so no registration slips in before the notices."""
    await session.refresh(event, ["status", "ical_sequence"])
    if event.status == EventStatus.cancelled:
        return EventChange(operation=Operation.cancelled, event=event)
    previous = event.status
    event.status = EventStatus.cancelled
    event.ical_sequence += 1
    event.updated_at = clock.now()
    await session.flush()
    return EventChange(
        operation=Operation.cancelled,
        event=event,
        status_before=previous,
        status_after=EventStatus.cancelled,
        sequence_before=event.ical_sequence - 1,
        sequence_after=event.ical_sequence,
    )


def copy_input(
    source: Event,
    *,
    starts_on: dt.date | None = None,
    title: str | None = None,
    owner_id: int | None = None,
) -> EventInput:
    """What a copy of ``source`` (loaded with its details) is made from: every editable
    field, a new web address, and with ``starts_on`` the same local time on that day
    (registration opening and closing move with it)."""
    shift = dt.timedelta(0)
    if starts_on is not None:
        zone = ZoneInfo(source.timezone)
        local = source.starts_at.astimezone(zone)
        moved = dt.datetime.combine(starts_on, local.time(), tzinfo=zone)
        shift = moved.astimezone(dt.UTC) - source.starts_at
    values = event_values(source)
    for name, spec in EDITABLE.items():
        if spec.kind == FieldKind.moment and values[name] is not None:
            values[name] = values[name] + shift
    values["title"] = (title or "").strip() or source.title
    values["slug"] = None
    return input_values(values, owner_id=owner_id)


async def duplicate_event(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    starts_on: dt.date | None = None,
    title: str | None = None,
    owner_id: int | None = None,
) -> EventChange:
    """A draft copy with a new web address and calendar UID and no registrations (see
    ``copy_input``). ``owner_id`` None keeps the source's owner."""
    source = await event_with_details(session, event.id)
    data = copy_input(
        source,
        starts_on=starts_on,
        title=title,
        owner_id=owner_id if owner_id is not None else source.owner_id,
    )
    created = await create_event(session, clock, data)
    return replace(created, operation=Operation.duplicated, source=source)


def changed_values(change: EventChange) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record's fields as (old values, new values)."""
    return (
        {name: c.old for name, c in change.fields.items()},
        {name: c.new for name, c in change.fields.items()},
    )


__all__ = [
    "EventChange",
    "FieldChange",
    "Operation",
    "cancel_event",
    "changed_values",
    "copy_input",
    "create_event",
    "duplicate_event",
    "event_with_details",
    "publish_event",
    "unpublish_event",
    "update_event",
]
