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
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.alerts import service as alerts
from events.catalog.errors import PartnerNotFound
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
from events.catalog.queries import event_load_options, postcode_district
from events.clock import Clock
from events.errors import Conflict, Forbidden, InvalidInput
from events.organiser import audit
from events.organiser.audit import SYSTEM, Actor
from events.organiser.errors import EventNotManaged
from events.organiser.models import AuditEntry, Organiser, event_shares
from events.organiser.permissions import manageable
from events.registration import capacity as places
from events.registration.models import Registration, RegistrationStatus


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


# Topics, partners, series, campaigns ------------------------------------------------------
#
# Topics shape the public site (its topic pages and feeds), so only admins create or change
# them; any organiser may manage series, campaigns and partners. ``by`` is the organiser
# acting (None: the command line or demo data); their change is written to the audit log.


def _need(errors: dict[str, str], name: str, value: str, message: str) -> str:
    value = value.strip()
    if not value:
        errors[name] = message
    return value


def _valid_url(url: str) -> bool:
    return not url or re.match(r"^https?://[^\s/]+\.[^\s]+$", url) is not None


def _admin_only(by: Organiser | None) -> None:
    if by is not None and not by.is_admin:
        raise Forbidden("Only admins can create or change topics.")


async def _log(
    session: AsyncSession,
    clock: Clock,
    by: Organiser | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    slug: str = "",
) -> None:
    old, new = audit.changes(before, after)
    if by is not None and new:
        if slug:  # which row: the log has no column for topics, series and the like
            old, new = {"slug": slug, **old}, {"slug": slug, **new}
        await audit.record(session, clock, Actor.of(by), action, before=old, after=new)


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
    by: Organiser | None = None,
) -> Topic:
    _admin_only(by)
    errors: dict[str, str] = {}
    name = _need(errors, "name", name, "Enter the topic's name.")
    if errors:
        raise InvalidInput(errors)
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
    await _log(session, clock, by, "topic.created", {}, {"topic": topic.slug, "name": name})
    return topic


async def update_topic(
    session: AsyncSession,
    clock: Clock,
    *,
    topic: Topic,
    name: str,
    summary: str = "",
    description: str = "",
    advice: str = "",
    featured: bool = False,
    sort_order: int = 0,
    by: Organiser | None = None,
) -> Topic:
    """Change a topic; its web address stays the same so links and feeds keep working."""
    _admin_only(by)
    errors: dict[str, str] = {}
    name = _need(errors, "name", name, "Enter the topic's name.")
    if errors:
        raise InvalidInput(errors)
    fields = ("name", "summary", "description", "advice", "featured", "sort_order")
    before = {k: getattr(topic, k) for k in fields}
    after = dict(
        zip(fields, (name, summary, description, advice, featured, sort_order), strict=True)
    )
    for key, value in after.items():
        setattr(topic, key, value)
    await session.flush()
    await _log(session, clock, by, "topic.updated", before, after, slug=topic.slug)
    return topic


async def create_partner(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    url: str = "",
    description: str = "",
    by: Organiser | None = None,
) -> Partner:
    errors: dict[str, str] = {}
    name = _need(errors, "name", name, "Enter the organisation's name.")
    url = url.strip()
    if not _valid_url(url):
        errors["url"] = "Enter a web address starting https://, or leave it blank."
    if errors:
        raise InvalidInput(errors)
    partner = Partner(
        slug=await _unique_slug(session, Partner, slugify(name)),
        name=name,
        url=url,
        description=description,
    )
    session.add(partner)
    await session.flush()
    await _log(session, clock, by, "partner.created", {}, {"partner": partner.slug})
    return partner


async def update_partner(
    session: AsyncSession,
    clock: Clock,
    *,
    partner: Partner,
    name: str,
    url: str = "",
    description: str = "",
    by: Organiser | None = None,
) -> Partner:
    errors: dict[str, str] = {}
    name = _need(errors, "name", name, "Enter the organisation's name.")
    url = url.strip()
    if not _valid_url(url):
        errors["url"] = "Enter a web address starting https://, or leave it blank."
    if errors:
        raise InvalidInput(errors)
    before = {"name": partner.name, "url": partner.url, "description": partner.description}
    after = {"name": name, "url": url, "description": description}
    partner.name, partner.url, partner.description = name, url, description
    await session.flush()
    await _log(session, clock, by, "partner.updated", before, after, slug=partner.slug)
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
    by: Organiser | None = None,
) -> Series:
    errors: dict[str, str] = {}
    title = _need(errors, "title", title, "Enter the series title.")
    if errors:
        raise InvalidInput(errors)
    series = Series(
        slug=await _unique_slug(session, Series, slug or slugify(title)),
        title=title,
        summary=summary,
        description=description,
        partners=list(partners),
    )
    session.add(series)
    await session.flush()
    await _log(session, clock, by, "series.created", {}, {"series": series.slug})
    return series


async def update_series(
    session: AsyncSession,
    clock: Clock,
    *,
    series: Series,
    title: str,
    summary: str = "",
    description: str = "",
    partners: Sequence[Partner] = (),
    by: Organiser | None = None,
) -> Series:
    """Change a series (``series.partners`` must be loaded)."""
    errors: dict[str, str] = {}
    title = _need(errors, "title", title, "Enter the series title.")
    if errors:
        raise InvalidInput(errors)
    before = {
        "title": series.title,
        "summary": series.summary,
        "description": series.description,
        "partners": sorted(p.slug for p in series.partners),
    }
    after = {
        "title": title,
        "summary": summary,
        "description": description,
        "partners": sorted(p.slug for p in partners),
    }
    series.title, series.summary, series.description = title, summary, description
    series.partners = list(partners)
    await session.flush()
    await _log(session, clock, by, "series.updated", before, after, slug=series.slug)
    return series


def _campaign_errors(
    title: str, starts_on: dt.date | None, ends_on: dt.date | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Enter the campaign title."
    if starts_on is None:
        errors["starts_on"] = "Enter the day the campaign starts."
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The campaign must end on or after the day it starts."
    return errors


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
    by: Organiser | None = None,
) -> Campaign:
    errors = _campaign_errors(title, starts_on, ends_on)
    if errors:
        raise InvalidInput(errors)
    ends = ends_on or starts_on
    campaign = Campaign(
        slug=await _unique_slug(session, Campaign, slug or slugify(title)),
        title=title.strip(),
        summary=summary,
        description=description,
        starts_on=starts_on,
        ends_on=ends,
    )
    session.add(campaign)
    await session.flush()
    await _log(session, clock, by, "campaign.created", {}, {"campaign": campaign.slug})
    return campaign


async def update_campaign(
    session: AsyncSession,
    clock: Clock,
    *,
    campaign: Campaign,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    summary: str = "",
    description: str = "",
    by: Organiser | None = None,
) -> Campaign:
    errors = _campaign_errors(title, starts_on, ends_on)
    if errors:
        raise InvalidInput(errors)
    fields = ("title", "summary", "description", "starts_on", "ends_on")
    before = {k: getattr(campaign, k) for k in fields}
    after = dict(
        zip(
            fields,
            (title.strip(), summary, description, starts_on, ends_on or starts_on),
            strict=True,
        )
    )
    for key, value in after.items():
        setattr(campaign, key, value)
    await session.flush()
    await _log(session, clock, by, "campaign.updated", before, after, slug=campaign.slug)
    return campaign


async def partners(session: AsyncSession) -> Sequence[Partner]:
    return (await session.execute(select(Partner).order_by(Partner.name))).scalars().all()


async def partner_by_slug(session: AsyncSession, slug: str) -> Partner:
    found = (
        await session.execute(select(Partner).where(Partner.slug == slug))
    ).scalar_one_or_none()
    if found is None:
        raise PartnerNotFound()
    return found


async def partners_by_slug(session: AsyncSession, slugs: Sequence[str]) -> list[Partner]:
    if not slugs:
        return []
    found = list((await session.execute(select(Partner).where(Partner.slug.in_(slugs)))).scalars())
    if len(found) != len(set(slugs)):
        raise InvalidInput({"partners": "Choose partner organisations from the list."})
    return sorted(found, key=lambda p: p.name)


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


async def _region_id(session: AsyncSession, slug: str | None) -> int | None:
    if not slug:
        return None
    region_id = (
        await session.execute(select(Region.id).where(Region.slug == slug))
    ).scalar_one_or_none()
    if region_id is None:
        raise InvalidInput({"region": "Choose a region from the list."})
    return region_id


async def _provisions(session: AsyncSession, codes: Sequence[str]) -> list[AccessProvision]:
    if not codes:
        return []
    found = (
        await session.execute(select(AccessProvision).where(AccessProvision.code.in_(codes)))
    ).scalars()
    provisions = sorted(found, key=lambda p: p.sort_order)
    if len(provisions) != len(set(codes)):
        raise InvalidInput({"access": "Choose access provisions from the list."})
    return provisions


def _check(data: EventInput) -> None:
    errors = validate_event_input(data)
    if errors:
        raise InvalidInput(errors)


async def create_event(
    session: AsyncSession,
    clock: Clock,
    data: EventInput,
    *,
    publish: bool = False,
    actor: Actor | None = None,
) -> Event:
    """Create an event as a draft (or published at once). Its places start at capacity.
    Recorded in the audit log as the actor's doing (the system's when none is given)."""
    _check(data)
    region_id = await _region_id(session, data.region)
    provisions = await _provisions(session, data.access)
    if data.slug is not None and not _SLUG.match(data.slug):
        raise InvalidInput({"slug": SLUG_MESSAGE})

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
    await audit.record(
        session,
        clock,
        actor or SYSTEM,
        "event.created",
        event_id=event.id,
        after=_audit_safe({"title": event.title, "slug": event.slug, "status": event.status.value}),
    )
    if publish:
        await alerts.on_event_published(session, clock, event=event)
    return event


# Event changes ---------------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
SLUG_MESSAGE = "Use lower-case letters, numbers and hyphens only, for example send-webinar-3."

# A change to any of these moves the event in members' calendars: the iCal sequence goes
# up and every confirmed registrant is emailed an update.
NOTIFY_FIELDS = (
    "starts_at",
    "ends_at",
    "timezone",
    "all_day",
    "format",
    "venue_name",
    "venue_address",
    "town",
    "postcode",
    "region",
    "joining_url",
)
HIDDEN_IN_AUDIT = frozenset({"joining_url"})


@dataclass(frozen=True)
class EventChange:
    """What ``update_event`` did: the fields changed, how many registrants were emailed,
    and who was promoted from the waiting list by a capacity rise."""

    event: Event
    changed: list[str]
    notified: int = 0
    promoted: list[Registration] = field(default_factory=list)


def event_values(event: Event) -> dict[str, Any]:
    """The editable fields of a loaded event (see ``event_with_details``), comparable with
    ``_wanted``; groupings as slugs. The write API starts a partial update from these."""
    return {
        "title": event.title,
        "slug": event.slug,
        "summary": event.summary,
        "description": event.description,
        "kind": event.kind,
        "format": event.format,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "all_day": event.all_day,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "town": event.town,
        "postcode": event.postcode,
        "region": event.region.slug if event.region else None,
        "joining_url": event.joining_url,
        "capacity": event.capacity,
        "waiting_list_enabled": event.waiting_list_enabled,
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "members_only": event.members_only,
        "access": [p.code for p in event.access_provisions],
        "access_notes": event.access_notes,
        "organiser_name": event.organiser_name,
        "organiser_email": event.organiser_email,
        "topics": sorted(t.slug for t in event.topics),
        "series": event.series.slug if event.series else None,
        "campaign": event.campaign.slug if event.campaign else None,
        "reminder_offsets": sorted(event.reminder_offsets, reverse=True),
    }


def _wanted(
    data: EventInput, current: Event, provisions: Sequence[AccessProvision]
) -> dict[str, Any]:
    return {
        "title": data.title.strip(),
        "slug": data.slug or current.slug,
        "summary": data.summary,
        "description": data.description,
        "kind": data.kind,
        "format": data.format,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "timezone": data.timezone,
        "all_day": data.all_day,
        "venue_name": data.venue_name,
        "venue_address": data.venue_address,
        "town": data.town,
        "postcode": data.postcode.upper().strip(),
        "region": data.region or None,
        "joining_url": data.joining_url,
        "capacity": data.capacity,
        "waiting_list_enabled": data.waiting_list_enabled,
        "registration_opens_at": data.registration_opens_at,
        "registration_closes_at": data.registration_closes_at,
        "members_only": data.members_only,
        "access": [p.code for p in provisions],
        "access_notes": data.access_notes,
        "organiser_name": data.organiser_name,
        "organiser_email": data.organiser_email,
        "topics": sorted(t.slug for t in data.topics),
        "series": data.series.slug if data.series else None,
        "campaign": data.campaign.slug if data.campaign else None,
        "reminder_offsets": sorted(set(data.reminder_offsets), reverse=True),
    }


def _audit_safe(values: dict[str, Any]) -> dict[str, Any]:
    """The joining link is a secret: the log says that it changed, never what it is."""
    return {k: ("changed" if k in HIDDEN_IN_AUDIT and v else v) for k, v in values.items()}


async def event_with_details(session: AsyncSession, event_id: int) -> Event:
    """The event with everything a console page or a change compares, loaded and current."""
    query = (
        select(Event)
        .where(Event.id == event_id)
        .options(*event_load_options())
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().unique().one()


async def update_event(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    data: EventInput,
    actor: Actor,
    secret: str,
) -> EventChange:
    """Apply an edit. Validated like ``create_event``; a save that changes nothing does
    nothing. A new time, place or joining link raises the iCal sequence (it only ever goes
    up) and emails every confirmed registrant the update; a new capacity is recounted under
    the event's lock and promotes the first people waiting. The slug changes only when
    ``data.slug`` names a new one. A cancelled event cannot be edited."""
    _check(data)
    # The event's lock first: an edit serialises with registrations and other edits, so
    # two simultaneous reschedules raise the sequence twice, in order, never to one value.
    await places.lock_event(session, event.id)
    event = await event_with_details(session, event.id)
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot be changed.", code="event_cancelled")
    if data.slug is not None and data.slug != event.slug:
        if not _SLUG.match(data.slug):
            raise InvalidInput({"slug": SLUG_MESSAGE})
        taken = await session.execute(
            select(Event.id).where(Event.slug == data.slug, Event.id != event.id)
        )
        if taken.first() is not None:
            raise InvalidInput({"slug": "Another event already uses that web address."})
    region_id = await _region_id(session, data.region)
    provisions = await _provisions(session, data.access)

    before = event_values(event)
    after = _wanted(data, event, provisions)
    old, new = audit.changes(before, after)
    changed = list(new)
    if not changed:
        return EventChange(event=event, changed=[])

    promoted: list[Registration] = []
    if "capacity" in changed:
        from events.registration import service as registrations  # imports this module

        try:
            promoted = await registrations.change_capacity(
                session, clock, event_id=event.id, capacity_=data.capacity, secret=secret
            )
        except Conflict as refused:
            raise InvalidInput({"capacity": refused.message}) from None
        # capacity and places_left were written by SQL: read them back.
        await session.refresh(event, ["capacity", "places_left"])

    simple = (
        "title",
        "summary",
        "description",
        "kind",
        "format",
        "starts_at",
        "ends_at",
        "timezone",
        "all_day",
        "venue_name",
        "venue_address",
        "town",
        "joining_url",
        "waiting_list_enabled",
        "registration_opens_at",
        "registration_closes_at",
        "members_only",
        "access_notes",
        "organiser_name",
        "organiser_email",
    )
    for name in simple:
        if name in changed:
            setattr(event, name, after[name])
    if "slug" in changed:
        event.slug = after["slug"]
    if "postcode" in changed:
        event.postcode = after["postcode"]
        event.postcode_district = postcode_district(after["postcode"])
    if "region" in changed:
        event.region_id = region_id
    if "access" in changed:
        event.access_provisions = list(provisions)
    if "topics" in changed:
        event.topics = list(data.topics)
    if "series" in changed:
        event.series = data.series
    if "campaign" in changed:
        event.campaign = data.campaign
    if "reminder_offsets" in changed:
        event.reminder_offsets = after["reminder_offsets"]
    event.updated_at = clock.now()

    moved = [name for name in NOTIFY_FIELDS if name in changed]
    notified = 0
    if moved:
        event.ical_sequence += 1
    await session.flush()
    if moved and event.status == EventStatus.published:
        from events.mail import notices  # imports registration, which imports this module

        notified = await notices.notify_event_updated(
            session, clock, event=event, changed=moved, secret=secret
        )
    if moved:
        old["ical_sequence"], new["ical_sequence"] = event.ical_sequence - 1, event.ical_sequence
    await audit.record(
        session,
        clock,
        actor,
        "event.updated",
        event_id=event.id,
        before=_audit_safe(old),
        after=_audit_safe(new),
    )
    for registration in promoted:
        await audit.record(
            session,
            clock,
            actor,
            "registration.promoted",
            event_id=event.id,
            registration_id=registration.id,
            before={"status": "waitlisted"},
            after={"status": "confirmed"},
        )
    await session.refresh(event, ["region", "series", "campaign"])
    return EventChange(event=event, changed=changed, notified=notified, promoted=promoted)


async def publish_event(
    session: AsyncSession, clock: Clock, event: Event, *, actor: Actor = SYSTEM
) -> Event:
    """Put a draft on the public pages. Publishing twice changes nothing."""
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot be published again.", code="event_cancelled")
    if event.status == EventStatus.draft:
        event.status = EventStatus.published
        event.published_at = event.updated_at = clock.now()
        await session.flush()
        await audit.record(
            session,
            clock,
            actor,
            "event.published",
            event_id=event.id,
            before={"status": "draft"},
            after={"status": "published"},
        )
        # Topic subscribers hear of it once: the alerts' dedupe keys make a second
        # publication (after an unpublish) queue nothing.
        await alerts.on_event_published(session, clock, event=event)
    return event


async def active_registrations(session: AsyncSession, event_id: int) -> int:
    """Confirmed and waiting registrations (cancelled ones are kept for the record only)."""
    return (
        await session.execute(
            select(func.count(Registration.id)).where(
                Registration.event_id == event_id,
                Registration.status != RegistrationStatus.cancelled,
            )
        )
    ).scalar_one()


async def unpublish_event(
    session: AsyncSession, clock: Clock, event: Event, *, actor: Actor
) -> Event:
    """Take a published event back to draft (off every public page and feed). Refused once
    anyone holds a place or waits for one: their emails link to the event, so it must be
    cancelled instead, which tells them."""
    if event.status == EventStatus.cancelled:
        raise Conflict("A cancelled event cannot go back to draft.", code="event_cancelled")
    if event.status == EventStatus.draft:
        return event
    await places.lock_event(session, event.id)
    if await active_registrations(session, event.id):
        raise Conflict(
            "People have registered for this event, so it cannot go back to draft. "
            "Cancel it instead: everyone registered will be told.",
            code="event_has_registrations",
        )
    event.status = EventStatus.draft
    event.published_at = None
    event.updated_at = clock.now()
    await session.flush()
    await audit.record(
        session,
        clock,
        actor,
        "event.unpublished",
        event_id=event.id,
        before={"status": "published"},
        after={"status": "draft"},
    )
    return event


async def cancel_event(
    session: AsyncSession, clock: Clock, event: Event, *, actor: Actor = SYSTEM, secret: str = ""
) -> Event:
    """Cancel an event. Its iCal sequence goes up so calendars replace their copy, and
    everyone confirmed or waiting is emailed (confirmed places with a calendar
    cancellation). Registrations stay, for the record. Cancelling twice changes nothing."""
    # Under the event's lock, so no registration slips in between the check and the notices.
    await places.lock_event(session, event.id)
    await session.refresh(event, ["status", "ical_sequence"])
    if event.status == EventStatus.cancelled:
        return event
    previous = event.status
    event.status = EventStatus.cancelled
    event.ical_sequence += 1
    event.updated_at = clock.now()
    await session.flush()
    from events.mail import notices  # imports registration, which imports this module

    notified = await notices.notify_event_cancelled(session, clock, event=event, secret=secret)
    await audit.record(
        session,
        clock,
        actor,
        "event.cancelled",
        event_id=event.id,
        before={"status": previous.value, "ical_sequence": event.ical_sequence - 1},
        after={"status": "cancelled", "ical_sequence": event.ical_sequence, "emailed": notified},
    )
    return event


async def duplicate_event(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    actor: Actor,
    starts_on: dt.date | None = None,
    title: str | None = None,
) -> Event:
    """A draft copy with a new web address and calendar UID and no registrations. With
    ``starts_on`` the copy moves to that day at the same local time (registration opening
    and closing move with it); otherwise the times are kept."""
    source = await event_with_details(session, event.id)
    shift = dt.timedelta(0)
    if starts_on is not None:
        zone = ZoneInfo(source.timezone)
        local = source.starts_at.astimezone(zone)
        moved = dt.datetime.combine(starts_on, local.time(), tzinfo=zone)
        shift = moved.astimezone(dt.UTC) - source.starts_at

    def moved_by(value: dt.datetime | None) -> dt.datetime | None:
        return value + shift if value is not None else None

    copy_title = (title or "").strip() or source.title
    data = EventInput(
        title=copy_title,
        kind=source.kind,
        format=source.format,
        starts_at=source.starts_at + shift,
        ends_at=source.ends_at + shift,
        timezone=source.timezone,
        summary=source.summary,
        description=source.description,
        all_day=source.all_day,
        venue_name=source.venue_name,
        venue_address=source.venue_address,
        town=source.town,
        postcode=source.postcode,
        region=source.region.slug if source.region else None,
        joining_url=source.joining_url,
        capacity=source.capacity,
        waiting_list_enabled=source.waiting_list_enabled,
        registration_opens_at=moved_by(source.registration_opens_at),
        registration_closes_at=moved_by(source.registration_closes_at),
        members_only=source.members_only,
        access=tuple(p.code for p in source.access_provisions),
        access_notes=source.access_notes,
        organiser_name=source.organiser_name,
        organiser_email=source.organiser_email,
        topics=tuple(source.topics),
        series=source.series,
        campaign=source.campaign,
        owner_id=actor.organiser_id if actor.organiser_id is not None else source.owner_id,
        reminder_offsets=tuple(source.reminder_offsets),
    )
    copy = await create_event(session, clock, data, actor=actor)
    await audit.record(
        session,
        clock,
        actor,
        "event.duplicated",
        event_id=source.id,
        after={"copy": copy.slug},
    )
    return copy


# Sharing ---------------------------------------------------------------------------------


def _may_share(event: Event, actor: Organiser) -> None:
    if not (actor.is_admin or event.owner_id == actor.id):
        raise Forbidden("Only the event's owner or an admin can change who it is shared with.")


async def event_owner(session: AsyncSession, event: Event) -> Organiser | None:
    return await session.get(Organiser, event.owner_id) if event.owner_id else None


async def shared_with(session: AsyncSession, event: Event) -> Sequence[Organiser]:
    query = (
        select(Organiser)
        .join(event_shares, event_shares.c.organiser_id == Organiser.id)
        .where(event_shares.c.event_id == event.id)
        .order_by(Organiser.email)
    )
    return (await session.execute(query)).scalars().all()


async def share_event(
    session: AsyncSession, clock: Clock, *, event: Event, with_email: str, actor: Organiser
) -> Organiser:
    """Let another organiser see and change this event. Sharing twice changes nothing."""
    _may_share(event, actor)
    email = with_email.strip().lower()
    if not email:
        raise InvalidInput({"email": "Enter the email address of an organiser account."})
    other = (
        await session.execute(select(Organiser).where(Organiser.email == email))
    ).scalar_one_or_none()
    if other is None or not other.active:
        raise InvalidInput({"email": "There is no active organiser account with that email."})
    if other.id == event.owner_id:
        raise InvalidInput({"email": "That organiser already owns this event."})
    if other.is_admin:
        raise InvalidInput({"email": "Admins can already see every event."})
    exists_already = await session.execute(
        select(event_shares.c.event_id).where(
            event_shares.c.event_id == event.id, event_shares.c.organiser_id == other.id
        )
    )
    if exists_already.first() is None:
        await session.execute(insert(event_shares).values(event_id=event.id, organiser_id=other.id))
        await audit.record(
            session,
            clock,
            Actor.of(actor),
            "event.shared",
            event_id=event.id,
            after={"shared_with": other.email},
        )
    return other


async def unshare_event(
    session: AsyncSession, clock: Clock, *, event: Event, organiser_id: int, actor: Organiser
) -> None:
    """Stop sharing the event with one organiser (they lose access at once)."""
    _may_share(event, actor)
    other = await session.get(Organiser, organiser_id)
    removed = await session.execute(
        delete(event_shares).where(
            event_shares.c.event_id == event.id, event_shares.c.organiser_id == organiser_id
        )
    )
    if removed.rowcount and other is not None:  # type: ignore[attr-defined]
        await audit.record(
            session,
            clock,
            Actor.of(actor),
            "event.unshared",
            event_id=event.id,
            before={"shared_with": other.email},
        )


# Console reads (the organiser's side of the catalogue) ------------------------------------


async def managed_event_details(session: AsyncSession, organiser: Organiser, slug: str) -> Event:
    """The event with its details if this organiser manages it, else ``EventNotManaged``
    (404, exactly as if it did not exist)."""
    query = (
        select(Event)
        .where(Event.slug == slug, manageable(organiser))
        .options(*event_load_options())
    )
    event = (await session.execute(query)).scalars().unique().one_or_none()
    if event is None:
        raise EventNotManaged()
    return event


@dataclass(frozen=True)
class ConsoleListing:
    items: Sequence[Event]
    total: int
    page: int
    pages: int


async def console_events(
    session: AsyncSession,
    organiser: Organiser,
    *,
    now: dt.datetime,
    status: EventStatus | None = None,
    q: str = "",
    when: str = "upcoming",
    page: int = 1,
    per_page: int = 25,
) -> ConsoleListing:
    """The events this organiser manages: upcoming soonest first, past latest first."""
    conditions = [manageable(organiser)]
    if status is not None:
        conditions.append(Event.status == status)
    for word in q.split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                Event.title.ilike(pattern, escape="\\"),
                Event.slug.ilike(pattern, escape="\\"),
                Event.town.ilike(pattern, escape="\\"),
            )
        )
    order: list[Any]
    if when == "upcoming":
        conditions.append(Event.ends_at > now)
        order = [Event.starts_at, Event.id]
    elif when == "past":
        conditions.append(Event.ends_at <= now)
        order = [Event.starts_at.desc(), Event.id.desc()]
    else:
        order = [Event.starts_at.desc(), Event.id.desc()]
    total = (await session.execute(select(func.count(Event.id)).where(*conditions))).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = (
        (
            await session.execute(
                select(Event)
                .where(*conditions)
                .order_by(*order)
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        )
        .scalars()
        .all()
    )
    return ConsoleListing(items=items, total=total, page=page, pages=pages)


async def registration_counts(session: AsyncSession, event_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Registration.status, func.count(Registration.id))
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    counts = {status.value: 0 for status in RegistrationStatus}
    for status, count in rows:
        counts[RegistrationStatus(status).value] = count
    return counts


@dataclass(frozen=True)
class AuditPage:
    items: Sequence[AuditEntry]
    total: int
    page: int
    pages: int


async def event_audit(
    session: AsyncSession, event_id: int, *, page: int = 1, per_page: int = 50
) -> AuditPage:
    """The event's audit log (its registrations' entries included), newest first."""
    total = (
        await session.execute(
            select(func.count(AuditEntry.id)).where(AuditEntry.event_id == event_id)
        )
    ).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = (
        (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.event_id == event_id)
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        )
        .scalars()
        .all()
    )
    return AuditPage(items=items, total=total, page=page, pages=pages)


@dataclass(frozen=True)
class FormChoices:
    """What the event form offers: reference data and the catalogue's groupings."""

    regions: Sequence[Region]
    provisions: Sequence[AccessProvision]
    topics: Sequence[Topic]
    series: Sequence[Series]
    campaigns: Sequence[Campaign]


async def form_choices(session: AsyncSession) -> FormChoices:
    async def rows(query: Any) -> Sequence[Any]:
        return (await session.execute(query)).scalars().all()

    return FormChoices(
        regions=await rows(select(Region).order_by(Region.sort_order, Region.name)),
        provisions=await rows(select(AccessProvision).order_by(AccessProvision.sort_order)),
        topics=await rows(select(Topic).order_by(Topic.sort_order, Topic.name)),
        series=await rows(select(Series).order_by(Series.title)),
        campaigns=await rows(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)),
    )


async def resolve_groupings(
    session: AsyncSession,
    *,
    topics: Sequence[str],
    series: str | None,
    campaign: str | None,
) -> tuple[tuple[Topic, ...], Series | None, Campaign | None]:
    """Topics, series and campaign named by slug in a form, or InvalidInput naming the
    field whose choice does not exist (any more)."""
    errors: dict[str, str] = {}
    found_topics: tuple[Topic, ...] = ()
    if topics:
        rows = (await session.execute(select(Topic).where(Topic.slug.in_(topics)))).scalars()
        found_topics = tuple(sorted(rows, key=lambda t: (t.sort_order, t.name)))
        if len(found_topics) != len(set(topics)):
            errors["topics"] = "Choose topics from the list."
    found_series = None
    if series:
        found_series = (
            await session.execute(select(Series).where(Series.slug == series))
        ).scalar_one_or_none()
        if found_series is None:
            errors["series"] = "Choose a series from the list."
    found_campaign = None
    if campaign:
        found_campaign = (
            await session.execute(select(Campaign).where(Campaign.slug == campaign))
        ).scalar_one_or_none()
        if found_campaign is None:
            errors["campaign"] = "Choose a campaign from the list."
    if errors:
        raise InvalidInput(errors)
    return found_topics, found_series, found_campaign


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
