"""Reminders: a job (``JOB``) the worker runs every loop (and ``events worker --once``
runs once).

Rules (SPEC, Email):

- only confirmed, not erased registrations of published events that have not started;
- an event's offsets are ``events.reminder_offsets`` (minutes before the start; by default
  7 days, 1 day, 1 hour);
- an offset is due once ``now >= starts_at - offset``; a registration gets it only if its
  place was confirmed before that instant (none for an offset already past when they
  registered);
- when several offsets are due at once (a worker that was stopped for days), only the
  nearest to the start is sent: a "7 days to go" email one hour before helps nobody;
- the dedupe key names the registration, the offset and the start instant, so the same
  reminder is never queued twice (several schedulers racing included: the unique key decides)
  and a rescheduled event gets its reminders afresh. The worker skips, at send time, a
  reminder whose registration or event was cancelled or whose start moved meanwhile.

Efficient: one indexed query for the few events with a due offset, then one query per such
event joining its confirmed registrations against the outbox (``NOT EXISTS`` on the unique
dedupe key), so registrations already reminded cost nothing; at most ``limit`` per call.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import Event, EventFormat, EventStatus
from events.clock import Clock
from events.config import Settings
from events.kit.jobs import Job
from events.kit.signing import Signer
from events.mail.models import OutboxMessage
from events.mail.outbox import enqueue
from events.registration.messages import Reminder
from events.registration.models import Registration, RegistrationStatus
from events.registration.service import mint_links

# Offsets larger than this are treated as this (an event is looked at from 31 days before).
MAX_OFFSET = dt.timedelta(days=31)


def reminder_key(registration_id: int, offset: int, starts_at: dt.datetime) -> str:
    return f"reminder:{registration_id}:{offset}:{int(starts_at.timestamp())}"


def due_offset(offsets: list[int], starts_at: dt.datetime, now: dt.datetime) -> int | None:
    """The offset (minutes) to remind about now: the nearest to the start among those whose
    moment has come, or None before the first and once the event has started."""
    if now >= starts_at:
        return None
    due = [
        minutes
        for minutes in offsets
        if isinstance(minutes, int)
        and minutes > 0
        and now >= starts_at - dt.timedelta(minutes=minutes)
    ]
    return min(due) if due else None


async def schedule_reminders(
    session: AsyncSession, clock: Clock, *, signer: Signer, limit: int = 500
) -> int:
    """Queue the reminders due now (at most ``limit``); returns how many were queued."""
    now = clock.now()
    events = (
        await session.execute(
            select(Event.id, Event.starts_at, Event.reminder_offsets, Event.format).where(
                Event.status == EventStatus.published,
                Event.starts_at > now,
                Event.starts_at <= now + MAX_OFFSET,
            )
        )
    ).all()
    queued = 0
    for event_id, starts_at, offsets, event_format in events:
        offset = due_offset(list(offsets or []), starts_at, now)
        if offset is None or queued >= limit:
            continue
        cutoff = starts_at - dt.timedelta(minutes=offset)
        key = (
            literal("reminder:")
            + cast(Registration.id, String)
            + literal(f":{offset}:{int(starts_at.timestamp())}")
        )
        registrations = (
            await session.scalars(
                select(Registration)
                .where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.confirmed,
                    Registration.erased_at.is_(None),
                    func.coalesce(Registration.confirmed_at, Registration.created_at) < cutoff,
                    ~exists().where(OutboxMessage.dedupe_key == key),
                )
                .order_by(Registration.id)
                .limit(limit - queued)
            )
        ).all()
        for registration in registrations:
            minted = await mint_links(session, clock, registration, signer=signer)
            online = event_format in {EventFormat.online, EventFormat.hybrid}
            await enqueue(
                session,
                clock,
                message=Reminder(
                    registration_id=registration.id,
                    event_id=event_id,
                    name=registration.name,
                    status=RegistrationStatus.confirmed,
                    offset=offset,
                    starts_at=starts_at,
                    manage_token=minted.manage,
                    join_token=minted.join if online else None,
                    calendar_token=minted.calendar,
                ),
                recipient=registration.email,
                dedupe_key=reminder_key(registration.id, offset, starts_at),
                event_id=event_id,
            )
            queued += 1
    return queued


# Per call: a worker's loop queues at most this many (the rest on the next loop).
BATCH_LIMIT = 500


async def _run(session: AsyncSession, clock: Clock, settings: Settings, signer: Signer) -> int:
    return await schedule_reminders(session, clock, signer=signer, limit=BATCH_LIMIT)


JOB = Job(name="reminders", run=_run)
