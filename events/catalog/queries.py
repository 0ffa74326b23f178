"""Read side of the catalogue: listing filters, keyset pagination, pages' selections.

Public selections only ever return published (and, where a page needs them, cancelled)
events; drafts are invisible here. The listing orders by (starts_at, id) so that pages are
stable, and pages by keyset (a cursor of the last row seen) so that an event added while
someone pages does not shift or repeat rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.base import ExecutableOption

from events.catalog.errors import CampaignNotFound, EventNotFound, SeriesNotFound, TopicNotFound
from events.catalog.models import (
    AccessProvision,
    Campaign,
    Event,
    EventStatus,
    Region,
    Series,
    Topic,
    event_access_provisions,
    event_topics,
)
from events.catalog.schemas import Cursor, ListingFilters

PUBLIC_STATUSES = (EventStatus.published, EventStatus.cancelled)


def event_load_options() -> list[ExecutableOption]:
    """Everything a page or API item shows about an event, loaded up front."""
    return [
        selectinload(Event.topics),
        selectinload(Event.access_provisions),
        joinedload(Event.region),
        joinedload(Event.series),
        joinedload(Event.campaign),
    ]


@dataclass(frozen=True)
class EventPage:
    items: Sequence[Event]
    total: int
    next_cursor: Cursor | None
    prev_cursor: Cursor | None


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _like_escaped(word: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", word.lower()) + "%"


def listing_conditions(
    filters: ListingFilters, *, now: dt.datetime, zone: ZoneInfo
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Event.status == EventStatus.published]
    if filters.past:
        conditions.append(Event.ends_at <= now)
    else:
        conditions.append(Event.ends_at > now)
    if filters.topic:
        conditions.append(
            exists()
            .where(event_topics.c.event_id == Event.id)
            .where(event_topics.c.topic_id == Topic.id)
            .where(Topic.slug == filters.topic)
        )
    if filters.kind:
        conditions.append(Event.kind == filters.kind)
    if filters.format:
        conditions.append(Event.format == filters.format)
    if filters.region:
        conditions.append(
            Event.region_id
            == select(Region.id).where(Region.slug == filters.region).scalar_subquery()
        )
    if filters.date_from:
        conditions.append(Event.starts_at >= _local_midnight(filters.date_from, zone))
    if filters.date_to:
        end = _local_midnight(filters.date_to + dt.timedelta(days=1), zone)
        conditions.append(Event.starts_at < end)
    for code in filters.access:
        conditions.append(
            exists()
            .where(event_access_provisions.c.event_id == Event.id)
            .where(event_access_provisions.c.provision_code == code)
        )
    for word in filters.words:
        pattern = _like_escaped(word)
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        Event.title,
                        Event.summary,
                        Event.town,
                        Event.venue_name,
                        Event.postcode_district,
                    )
                )
            )
        )
    if filters.place:
        conditions.append(place_condition(filters.place))
    return conditions


def postcode_district(postcode: str) -> str:
    """The outward code of a UK postcode ("SW1A 1AA" -> "SW1A"); "" when it is not one."""
    compact = re.sub(r"\s+", "", postcode.upper())
    match = re.fullmatch(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})?", compact)
    return match.group(1) if match else ""


def place_condition(place: str) -> ColumnElement[bool]:
    """A town name (any part of it) or a postcode district, or a full postcode."""
    district = postcode_district(place)
    town = func.lower(Event.town).like(_like_escaped(place.strip()), escape="\\")
    if district:
        return or_(Event.postcode_district == district, town)
    return town


def _after(cursor: Cursor, descending: bool) -> ColumnElement[bool]:
    if descending:
        return or_(
            Event.starts_at < cursor.starts_at,
            and_(Event.starts_at == cursor.starts_at, Event.id < cursor.id),
        )
    return or_(
        Event.starts_at > cursor.starts_at,
        and_(Event.starts_at == cursor.starts_at, Event.id > cursor.id),
    )


def _ordered(query: Select[Event], descending: bool) -> Select[Event]:
    if descending:
        return query.order_by(Event.starts_at.desc(), Event.id.desc())
    return query.order_by(Event.starts_at.asc(), Event.id.asc())


async def event_listing(
    session: AsyncSession,
    filters: ListingFilters,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    per_page: int,
) -> EventPage:
    """One page of the public listing: upcoming soonest first, or past latest first."""
    conditions = listing_conditions(filters, now=now, zone=zone)
    total = (await session.execute(select(func.count(Event.id)).where(*conditions))).scalar_one()

    descending = filters.past
    query = select(Event).where(*conditions).options(*event_load_options())
    backwards = filters.before is not None and filters.after is None
    if filters.after is not None:
        query = _ordered(query.where(_after(filters.after, descending)), descending)
    elif filters.before is not None:
        query = _ordered(query.where(_after(filters.before, not descending)), not descending)
    else:
        query = _ordered(query, descending)
    rows = list((await session.execute(query.limit(per_page + 1))).scalars().unique())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()

    def cursor(event: Event) -> Cursor:
        return Cursor(event.starts_at, event.id)

    next_cursor = prev_cursor = None
    if rows:
        if backwards:
            next_cursor = cursor(rows[-1])
            prev_cursor = cursor(rows[0]) if more else None
        else:
            next_cursor = cursor(rows[-1]) if more else None
            prev_cursor = cursor(rows[0]) if filters.after is not None else None
    return EventPage(items=rows, total=total, next_cursor=next_cursor, prev_cursor=prev_cursor)


async def upcoming_events(
    session: AsyncSession, *, now: dt.datetime, limit: int
) -> Sequence[Event]:
    query = (
        select(Event)
        .where(Event.status == EventStatus.published, Event.ends_at > now)
        .options(*event_load_options())
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().unique().all()


async def event_by_slug(session: AsyncSession, slug: str) -> Event:
    """A public event (published or cancelled); drafts are as absent as missing events."""
    query = (
        select(Event)
        .where(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
        .options(*event_load_options())
    )
    event = (await session.execute(query)).scalars().unique().one_or_none()
    if event is None:
        raise EventNotFound()
    return event


async def topics(session: AsyncSession, *, featured_only: bool = False) -> Sequence[Topic]:
    query = select(Topic).order_by(Topic.sort_order, Topic.name)
    if featured_only:
        query = query.where(Topic.featured.is_(True))
    return (await session.execute(query)).scalars().all()


async def upcoming_counts_by_topic(session: AsyncSession, *, now: dt.datetime) -> dict[int, int]:
    query = (
        select(event_topics.c.topic_id, func.count())
        .join(Event, Event.id == event_topics.c.event_id)
        .where(Event.status == EventStatus.published, Event.ends_at > now)
        .group_by(event_topics.c.topic_id)
    )
    return {int(row[0]): int(row[1]) for row in (await session.execute(query)).all()}


async def topic_by_slug(session: AsyncSession, slug: str) -> Topic:
    topic = (await session.execute(select(Topic).where(Topic.slug == slug))).scalar_one_or_none()
    if topic is None:
        raise TopicNotFound()
    return topic


async def topic_events(
    session: AsyncSession, topic: Topic, *, now: dt.datetime, limit: int
) -> Sequence[Event]:
    query = (
        select(Event)
        .join(event_topics, event_topics.c.event_id == Event.id)
        .where(
            event_topics.c.topic_id == topic.id,
            Event.status == EventStatus.published,
            Event.ends_at > now,
        )
        .options(*event_load_options())
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().unique().all()


async def topic_series(session: AsyncSession, topic: Topic) -> Sequence[Series]:
    """Series with at least one public session in this topic."""
    query = (
        select(Series)
        .where(
            exists()
            .where(Event.series_id == Series.id)
            .where(Event.status.in_(PUBLIC_STATUSES))
            .where(event_topics.c.event_id == Event.id)
            .where(event_topics.c.topic_id == topic.id)
        )
        .options(selectinload(Series.partners))
        .order_by(Series.title)
    )
    return (await session.execute(query)).scalars().all()


async def series_by_slug(session: AsyncSession, slug: str) -> Series:
    query = select(Series).where(Series.slug == slug).options(selectinload(Series.partners))
    series = (await session.execute(query)).scalar_one_or_none()
    if series is None:
        raise SeriesNotFound()
    return series


async def series_sessions(session: AsyncSession, series: Series) -> Sequence[Event]:
    """Every public session of a series, in order, past ones included."""
    query = (
        select(Event)
        .where(Event.series_id == series.id, Event.status.in_(PUBLIC_STATUSES))
        .options(*event_load_options())
        .order_by(Event.starts_at, Event.id)
    )
    return (await session.execute(query)).scalars().unique().all()


async def bookable_series_sessions(
    session: AsyncSession, series_id: int, *, now: dt.datetime
) -> Sequence[Event]:
    """The sessions of a series that one series registration books: published and not yet
    started, in order. The form lists exactly these and the service registers exactly these."""
    query = (
        select(Event)
        .where(
            Event.series_id == series_id,
            Event.status == EventStatus.published,
            Event.starts_at > now,
        )
        .order_by(Event.starts_at, Event.id)
    )
    return (await session.execute(query)).scalars().all()


async def all_series(session: AsyncSession) -> Sequence[Series]:
    query = select(Series).options(selectinload(Series.partners)).order_by(Series.title)
    return (await session.execute(query)).scalars().all()


async def campaigns(session: AsyncSession, *, today: dt.date | None = None) -> Sequence[Campaign]:
    """Campaigns, current and future first; with ``today``, only those not yet over."""
    query = select(Campaign).order_by(Campaign.starts_on, Campaign.id)
    if today is not None:
        query = query.where(Campaign.ends_on >= today)
    return (await session.execute(query)).scalars().all()


async def campaign_by_slug(session: AsyncSession, slug: str) -> Campaign:
    query = select(Campaign).where(Campaign.slug == slug)
    campaign = (await session.execute(query)).scalar_one_or_none()
    if campaign is None:
        raise CampaignNotFound()
    return campaign


@dataclass(frozen=True)
class CampaignFinderResult:
    events: Sequence[Event]
    # True when nothing matched the place exactly and these are from the wider postcode area.
    widened_to_area: str | None
    total_in_campaign: int


async def campaign_events(
    session: AsyncSession,
    campaign: Campaign,
    *,
    region: str | None = None,
    place: str = "",
) -> CampaignFinderResult:
    """A campaign's public local events, narrowed by region and by town or postcode."""
    base = [Event.campaign_id == campaign.id, Event.status.in_(PUBLIC_STATUSES)]
    total = (await session.execute(select(func.count(Event.id)).where(*base))).scalar_one()
    conditions = list(base)
    if region:
        conditions.append(
            Event.region_id == select(Region.id).where(Region.slug == region).scalar_subquery()
        )

    def query(*extra: ColumnElement[bool]) -> Select[Event]:
        return (
            select(Event)
            .where(*conditions, *extra)
            .options(*event_load_options())
            .order_by(Event.starts_at, Event.town, Event.id)
        )

    widened: str | None = None
    if place:
        found = (await session.execute(query(place_condition(place)))).scalars().unique().all()
        district = postcode_district(place)
        if not found and district:
            # Nothing in that district: offer the rest of its postcode area ("M1" -> "M").
            area = re.match(r"[A-Z]+", district)
            if area:
                widened = area.group(0)
                pattern = widened + "%"
                found = (
                    (
                        await session.execute(
                            query(
                                Event.postcode_district.like(pattern),
                                func.substr(Event.postcode_district, len(widened) + 1, 1).in_(
                                    list("0123456789")
                                ),
                            )
                        )
                    )
                    .scalars()
                    .unique()
                    .all()
                )
        return CampaignFinderResult(found, widened, total)
    found = (await session.execute(query())).scalars().unique().all()
    return CampaignFinderResult(found, None, total)


async def regions(session: AsyncSession) -> Sequence[Region]:
    return (await session.execute(select(Region).order_by(Region.sort_order))).scalars().all()


async def access_provisions(session: AsyncSession) -> Sequence[AccessProvision]:
    query = select(AccessProvision).order_by(AccessProvision.sort_order)
    return (await session.execute(query)).scalars().all()


async def database_answers(session: AsyncSession) -> bool:
    return bool((await session.execute(text("SELECT 1"))).scalar_one() == 1)


async def schema_revision(session: AsyncSession) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    rows = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars()
    return next(iter(rows), None)


# What the console's event form offers ---------------------------------------------------


@dataclass(frozen=True)
class FormChoices:
    """What the event form offers: reference data and the catalogue's groupings."""

    regions: Sequence[Region]
    provisions: Sequence[AccessProvision]
    topics: Sequence[Topic]
    series: Sequence[Series]
    campaigns: Sequence[Campaign]


async def form_choices(session: AsyncSession) -> FormChoices:
    async def rows(query: Select[Any]) -> Sequence[Any]:
        found: Sequence[Any] = (await session.execute(query)).scalars().all()
        return found

    return FormChoices(
        regions=await rows(select(Region).order_by(Region.sort_order, Region.name)),
        provisions=await rows(select(AccessProvision).order_by(AccessProvision.sort_order)),
        topics=await rows(select(Topic).order_by(Topic.sort_order, Topic.name)),
        series=await rows(select(Series).order_by(Series.title)),
        campaigns=await rows(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)),
    )


async def count_events(session: AsyncSession) -> int:
    return (await session.execute(select(func.count(Event.id)))).scalar_one()
