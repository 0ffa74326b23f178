"""Write side of the catalogue, and the rules every page and API answer shares.

Services take ``(session, clock, ...)``, flush, and never commit: the caller's unit of work
does. Organiser editing (issue: organiser console) builds on these same functions.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import (
    DEFAULT_REMINDER_OFFSETS,
    AccessProvision,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Partner,
    Region,
    Series,
    Topic,
)
from events.catalog.queries import postcode_district
from events.clock import Clock
from events.errors import Conflict, InvalidInput


def slugify(text: str, *, max_length: int = 100) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "event"


async def _unique_slug(session: AsyncSession, model: type, base: str) -> str:
    column = model.slug  # type: ignore[attr-defined]
    taken = set(
        (await session.execute(select(column).where(column.like(f"{base}%")))).scalars().all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def create_topic(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    slug: str | None = None,
    summary: str = "",
    description: str = "",
    advice: str = "",
    featured: bool = False,
    sort_order: int = 0,
) -> Topic:
    topic = Topic(
        slug=await _unique_slug(session, Topic, slug or slugify(name)),
        name=name,
        summary=summary,
        description=description,
        advice=advice,
        featured=featured,
        sort_order=sort_order,
    )
    session.add(topic)
    await session.flush()
    return topic


async def create_partner(
    session: AsyncSession, clock: Clock, *, name: str, url: str = "", description: str = ""
) -> Partner:
    partner = Partner(
        slug=await _unique_slug(session, Partner, slugify(name)),
        name=name,
        url=url,
        description=description,
    )
    session.add(partner)
    await session.flush()
    return partner


async def create_series(
    session: AsyncSession,
    clock: Clock,
    *,
    title: str,
    summary: str = "",
    description: str = "",
    partners: Sequence[Partner] = (),
    slug: str | None = None,
) -> Series:
    series = Series(
        slug=await _unique_slug(session, Series, slug or slugify(title)),
        title=title,
        summary=summary,
        description=description,
        partners=list(partners),
    )
    session.add(series)
    await session.flush()
    return series


async def create_campaign(
    session: AsyncSession,
    clock: Clock,
    *,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    summary: str = "",
    description: str = "",
    slug: str | None = None,
) -> Campaign:
    ends = ends_on or starts_on
    if ends < starts_on:
        raise InvalidInput({"ends_on": "The campaign must end on or after the day it starts."})
    campaign = Campaign(
        slug=await _unique_slug(session, Campaign, slug or slugify(title)),
        title=title,
        summary=summary,
        description=description,
        starts_on=starts_on,
        ends_on=ends,
    )
    session.add(campaign)
    await session.flush()
    return campaign


@dataclass(frozen=True)
class EventInput:
    """Everything needed to create an event. Times are aware; they are stored in UTC."""

    title: str
    kind: EventKind
    format: EventFormat
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str = "Europe/London"
    summary: str = ""
    description: str = ""
    all_day: bool = False
    venue_name: str = ""
    venue_address: str = ""
    town: str = ""
    postcode: str = ""
    region: str | None = None  # region slug
    joining_url: str = ""
    capacity: int | None = None
    waiting_list_enabled: bool = False
    registration_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    members_only: bool = False
    access: tuple[str, ...] = ()  # access provision codes
    access_notes: str = ""
    organiser_name: str = ""
    organiser_email: str = ""
    topics: tuple[Topic, ...] = ()
    series: Series | None = None
    campaign: Campaign | None = None
    slug: str | None = None
    owner_id: int | None = None  # the organiser who owns it (None: admins only)
    reminder_offsets: tuple[int, ...] = DEFAULT_REMINDER_OFFSETS  # minutes before the start


def validate_event_input(data: EventInput) -> dict[str, str]:
    """The field rules an event must meet; returns messages keyed by field."""
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = "Enter a title."
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
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


async def create_event(
    session: AsyncSession, clock: Clock, data: EventInput, *, publish: bool = False
) -> Event:
    """Create an event as a draft (or published at once). Its places start at capacity."""
    errors = validate_event_input(data)
    if errors:
        raise InvalidInput(errors)
    region_id: int | None = None
    if data.region:
        region_id = (
            await session.execute(select(Region.id).where(Region.slug == data.region))
        ).scalar_one_or_none()
        if region_id is None:
            raise InvalidInput({"region": "Choose a region from the list."})
    provisions: list[AccessProvision] = []
    if data.access:
        found = (
            await session.execute(
                select(AccessProvision).where(AccessProvision.code.in_(data.access))
            )
        ).scalars()
        provisions = sorted(found, key=lambda p: p.sort_order)
        if len(provisions) != len(set(data.access)):
            raise InvalidInput({"access": "Choose access provisions from the list."})

    now = clock.now()
    event = Event(
        slug=await _unique_slug(session, Event, data.slug or slugify(data.title)),
        title=data.title.strip(),
        summary=data.summary,
        description=data.description,
        kind=data.kind,
        format=data.format,
        status=EventStatus.published if publish else EventStatus.draft,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        all_day=data.all_day,
        venue_name=data.venue_name,
        venue_address=data.venue_address,
        town=data.town,
        postcode=data.postcode.upper().strip(),
        postcode_district=postcode_district(data.postcode),
        region_id=region_id,
        joining_url=data.joining_url,
        capacity=data.capacity,
        places_left=data.capacity,
        waiting_list_enabled=data.waiting_list_enabled,
        registration_opens_at=data.registration_opens_at,
        registration_closes_at=data.registration_closes_at,
        members_only=data.members_only,
        access_notes=data.access_notes,
        organiser_name=data.organiser_name,
        organiser_email=data.organiser_email,
        ical_sequence=0,
        reminder_offsets=list(data.reminder_offsets),
        owner_id=data.owner_id,
        series=data.series,
        campaign=data.campaign,
        topics=list(data.topics),
        access_provisions=provisions,
        created_at=now,
        updated_at=now,
        published_at=now if publish else None,
    )
    session.add(event)
    await session.flush()
    return event


async def publish_event(session: AsyncSession, clock: Clock, event: Event) -> Event:
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot be published again.", code="event_cancelled")
    if event.status == EventStatus.draft:
        event.status = EventStatus.published
        event.published_at = event.updated_at = clock.now()
        await session.flush()
    return event


async def cancel_event(session: AsyncSession, clock: Clock, event: Event) -> Event:
    """Cancel an event. Its iCal sequence goes up so calendars replace their copy."""
    if event.status != EventStatus.cancelled:
        event.status = EventStatus.cancelled
        event.ical_sequence += 1
        event.updated_at = clock.now()
        await session.flush()
    return event


async def count_events(session: AsyncSession) -> int:
    return (await session.execute(select(func.count(Event.id)))).scalar_one()


class RegistrationState(enum.StrEnum):
    """What a member can do about an event right now; one rule for pages and API alike."""

    open = "open"  # places available (or unlimited)
    waiting_list = "waiting_list"  # full, but the waiting list takes names
    full = "full"  # full, and no waiting list
    not_open_yet = "not_open_yet"
    closed = "closed"
    past = "past"
    cancelled = "cancelled"
    draft = "draft"


def registration_state(event: Event, now: dt.datetime) -> RegistrationState:
    if event.status == EventStatus.cancelled:
        return RegistrationState.cancelled
    if event.status == EventStatus.draft:
        return RegistrationState.draft
    if event.ends_at <= now:
        return RegistrationState.past
    if event.registration_opens_at and now < event.registration_opens_at:
        return RegistrationState.not_open_yet
    closes = event.registration_closes_at or event.starts_at
    if now >= closes:
        return RegistrationState.closed
    if event.places_left is not None and event.places_left <= 0:
        return (
            RegistrationState.waiting_list if event.waiting_list_enabled else RegistrationState.full
        )
    return RegistrationState.open


def availability_text(event: Event, now: dt.datetime) -> str:
    """A short public line about places: '12 places left', 'Waiting list open', 'Full'."""
    state = registration_state(event, now)
    if state == RegistrationState.open:
        if event.places_left is None:
            return "Places available"
        return "1 place left" if event.places_left == 1 else f"{event.places_left} places left"
    return {
        RegistrationState.waiting_list: "Full: waiting list open",
        RegistrationState.full: "Full",
        RegistrationState.not_open_yet: "Registration not open yet",
        RegistrationState.closed: "Registration closed",
        RegistrationState.past: "This event has finished",
        RegistrationState.cancelled: "Cancelled",
        RegistrationState.draft: "Not published",
    }[state]
