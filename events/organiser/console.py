"""The console's reads about events: the organiser's list, one managed event, its
registration counts and its audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit.models import AuditEntry
from events.catalog.models import Event, EventStatus
from events.catalog.queries import event_load_options
from events.organiser.errors import EventNotManaged
from events.organiser.models import Organiser
from events.organiser.permissions import manageable
from events.registration.models import Registration, RegistrationStatus


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
