"""Which events a calendar holds, and what its ETag and Last-Modified are made of.

A public feed holds the public events (published or cancelled, never drafts) that have not
ended yet or ended within the feed's window (``Settings.feed_past_days``, a year by default),
so a feed does not grow for ever; cancelled ones stay so that subscribers see them go. An
event that leaves the window leaves subscribed calendars too (clients mirror the feed).
Its freshness is one aggregate query (count, latest ``updated_at``, sum of ids and of
sequences), cheap enough to answer a conditional request without loading any event.

The private feed of a registrant holds the events of every confirmed place held under the
email behind their management link (the holder of that link is the holder of the email).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog import queries
from events.catalog.models import Event, EventStatus, event_topics
from events.kit.signing import Signer
from events.registration import service as registration_service
from events.registration.errors import RegistrationNotFound
from events.registration.models import Registration, RegistrationStatus

PUBLIC_STATUSES = (EventStatus.published, EventStatus.cancelled)
# Bump when the serialised form changes, so every ETag changes with it.
FORMAT_VERSION = "3"


@dataclass(frozen=True)
class Selection:
    """A public feed: its cache key and what it holds (the topic's name, the series' or
    the campaign's title; empty for the whole listing), which the calendar's name ends
    with (``builders.calendar_title``)."""

    key: str
    subject: str
    condition: ColumnElement[bool] | None = None


@dataclass(frozen=True)
class FeedStamp:
    """What a feed's ETag and Last-Modified are derived from."""

    count: int
    last_changed: dt.datetime | None
    id_sum: int
    sequence_sum: int

    def etag(self, key: str) -> str:
        text = f"{FORMAT_VERSION}|{key}|{self.count}|{self.last_changed}|{self.id_sum}|"
        text += str(self.sequence_sum)
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class EventKey:
    """The identity of one event's serialised VEVENT: it changes whenever the event does."""

    id: int
    updated_at: dt.datetime
    ical_sequence: int


def _conditions(
    selection: Selection, now: dt.datetime, window: dt.timedelta
) -> list[ColumnElement[bool]]:
    conditions = [Event.status.in_(PUBLIC_STATUSES), Event.ends_at >= now - window]
    if selection.condition is not None:
        conditions.append(selection.condition)
    return conditions


def whole_listing() -> Selection:
    return Selection("all", "")


async def topic_selection(session: AsyncSession, slug: str) -> Selection:
    topic = await queries.topic_by_slug(session, slug)
    condition = exists().where(
        event_topics.c.event_id == Event.id, event_topics.c.topic_id == topic.id
    )
    return Selection(f"topic:{topic.id}", topic.name, condition)


async def series_selection(session: AsyncSession, slug: str) -> Selection:
    series = await queries.series_by_slug(session, slug)
    return Selection(f"series:{series.id}", series.title, Event.series_id == series.id)


async def campaign_selection(session: AsyncSession, slug: str) -> Selection:
    campaign = await queries.campaign_by_slug(session, slug)
    return Selection(f"campaign:{campaign.id}", campaign.title, Event.campaign_id == campaign.id)


async def feed_stamp(
    session: AsyncSession, selection: Selection, now: dt.datetime, *, window: dt.timedelta
) -> FeedStamp:
    query = select(
        func.count(Event.id),
        func.max(Event.updated_at),
        func.coalesce(func.sum(Event.id), 0),
        func.coalesce(func.sum(Event.ical_sequence), 0),
    ).where(*_conditions(selection, now, window))
    count, last, id_sum, sequence_sum = (await session.execute(query)).one()
    if isinstance(last, str):  # SQLite returns an aggregate of a DateTime column as text
        last = dt.datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return FeedStamp(int(count), last, int(id_sum), int(sequence_sum))


async def feed_keys(
    session: AsyncSession, selection: Selection, now: dt.datetime, *, window: dt.timedelta
) -> list[EventKey]:
    """The feed's events in order, as keys only (the serialised VEVENTs are kept by key)."""
    query = (
        select(Event.id, Event.updated_at, Event.ical_sequence)
        .where(*_conditions(selection, now, window))
        .order_by(Event.starts_at, Event.id)
    )
    return [EventKey(*row) for row in (await session.execute(query)).all()]


async def events_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Event]:
    """Whole rows for the events whose VEVENT is not kept yet (no relationships needed)."""
    found: list[Event] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(Event).where(Event.id.in_(chunk))
        found.extend((await session.execute(query)).scalars().all())
    return found


async def event_download(session: AsyncSession, slug: str) -> Event:
    """A public event (published or cancelled) for its ``.ics`` download."""
    return await queries.event_by_slug(session, slug)


@dataclass(frozen=True)
class PrivatePlace:
    registration: Registration
    event: Event


async def private_places(
    session: AsyncSession,
    *,
    token: str,
    signer: Signer,
    now: dt.datetime,
    window: dt.timedelta,
) -> list[PrivatePlace]:
    """The confirmed places held under the email behind a private feed link, with their
    events (public ones, in the feed window). A wrong token is ``RegistrationNotFound``
    like a missing one.

    A link whose registration was erased holds no places (issue 13 item 9): it answers an
    empty calendar rather than a 404 or 410, because Google Calendar and Outlook keep
    showing the last copy of a subscription that errors, while a valid calendar with no
    events makes every client drop the events it showed. Only the link's hash was kept
    (``registration.models.RetiredCalendarLink``), so there is nothing else to show. A
    person who cancelled every place gets the same empty calendar from the query below."""
    try:
        holder = await registration_service.registration_by_calendar_token(
            session, token=token, signer=signer
        )
    except RegistrationNotFound:
        if await registration_service.calendar_link_retired(session, token=token, signer=signer):
            return []
        raise
    query = (
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.email == holder.email,
            Registration.status == RegistrationStatus.confirmed,
            Event.status.in_(PUBLIC_STATUSES),
            Event.ends_at >= now - window,
        )
        .order_by(Event.starts_at, Event.id)
    )
    rows = (await session.execute(query)).all()
    return [PrivatePlace(registration, event) for registration, event in rows]


async def private_place(
    session: AsyncSession, *, token: str, signer: Signer, event_id: int
) -> tuple[Registration, Event]:
    """One place of the private feed by event, for its personal joining redirect."""
    holder = await registration_service.registration_by_calendar_token(
        session, token=token, signer=signer
    )
    query = (
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.email == holder.email,
            Registration.event_id == event_id,
            Registration.status != RegistrationStatus.cancelled,
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise RegistrationNotFound()
    return row[0], row[1]
