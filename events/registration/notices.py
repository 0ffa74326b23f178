"""Messages to everyone holding a place at an event: the event changed, the event was
cancelled, or its organiser wrote to them; and to everyone waiting for one when the event
moves (a plain email: they have no place, so no calendar invite) or is cancelled. Called
by other rooms' services in the transaction that made the change, so the notices commit
with it or not at all.

Each registrant gets fresh secret links (``service.mint_links``) and one
outbox row; dedupe keys name the change (the event's iCal sequence, or the broadcast's
id), so replaying a change never sends its notice twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import Event
from events.clock import Clock
from events.kit.signing import Signer
from events.mail.outbox import enqueue
from events.registration.messages import Broadcast, EventCancelled, EventUpdated, WaitlistMoved
from events.registration.models import Registration, RegistrationStatus
from events.registration.service import invite_sequence, mint_links, place_fields

Audience = Literal["confirmed", "waitlisted"]


async def _holders(
    session: AsyncSession, event: Event, status: RegistrationStatus
) -> Sequence[Registration]:
    return (
        (
            await session.execute(
                select(Registration)
                .where(
                    Registration.event_id == event.id,
                    Registration.status == status,
                    Registration.erased_at.is_(None),
                )
                .order_by(Registration.id)
            )
        )
        .scalars()
        .all()
    )


async def notify_event_updated(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    changed: Sequence[str],
    signer: Signer,
) -> int:
    """Tell every confirmed registrant that something the invite shows changed (``changed``:
    the fields, see ``catalog.fields.INVITE_FIELDS``), with the update invite (same UID,
    the event's new SEQUENCE). Call after raising ``event.ical_sequence``, with the event's
    lock held. Each invite's SEQUENCE is the event's, or higher for someone sent more before
    (``service.invite_sequence``). Returns how many were queued."""
    count = 0
    for registration in await _holders(session, event, RegistrationStatus.confirmed):
        minted = await mint_links(session, clock, registration, signer=signer)
        await enqueue(
            session,
            clock,
            message=EventUpdated(
                **place_fields(registration, event, minted, None),
                changed=list(changed),
                sequence=await invite_sequence(session, registration, floor=event.ical_sequence),
            ),
            recipient=registration.email,
            dedupe_key=f"event:{event.id}:updated:{event.ical_sequence}:{registration.id}",
            event_id=event.id,
        )
        count += 1
    return count


async def notify_waitlist_moved(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    changed: Sequence[str],
    signer: Signer,
) -> int:
    """Tell everyone on the waiting list that the event's time or place changed
    (``changed``: those fields) and that they are still waiting: a plain email with their
    management link (to leave the list), no invite and no joining or calendar link. Call
    with the event's lock held, after promotions. Returns how many were queued."""
    count = 0
    for registration in await _holders(session, event, RegistrationStatus.waitlisted):
        minted = await mint_links(session, clock, registration, signer=signer)
        fields = place_fields(registration, event, minted, None)
        # A waiting place has no joining link or calendar entry: keep them out of the row.
        fields.update(join_token=None, calendar_token=None)
        await enqueue(
            session,
            clock,
            message=WaitlistMoved(**fields, changed=list(changed)),
            recipient=registration.email,
            dedupe_key=f"event:{event.id}:waitlist-moved:{event.ical_sequence}:{registration.id}",
            event_id=event.id,
        )
        count += 1
    return count


async def notify_event_cancelled(session: AsyncSession, clock: Clock, *, event: Event) -> int:
    """Tell everyone confirmed or waiting that the event is cancelled; confirmed places get
    ``METHOD:CANCEL`` so calendars remove the entry, the waiting list a plain email (their
    entry ended with the event). Returns how many were queued."""
    count = 0
    for status in (RegistrationStatus.confirmed, RegistrationStatus.waitlisted):
        for registration in await _holders(session, event, status):
            # Only a confirmed place's notice carries an invite (the CANCEL).
            sequence = (
                await invite_sequence(session, registration, floor=event.ical_sequence)
                if status == RegistrationStatus.confirmed
                else event.ical_sequence
            )
            await enqueue(
                session,
                clock,
                message=EventCancelled(
                    **place_fields(registration, event, None, None), sequence=sequence
                ),
                recipient=registration.email,
                dedupe_key=f"event:{event.id}:cancelled:{registration.id}",
                event_id=event.id,
            )
            count += 1
    return count


async def broadcast(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    subject: str,
    body: str,
    audience: Audience = "confirmed",
    sender_name: str = "",
    sender_email: str = "",
    signer: Signer,
) -> int:
    """An organiser's message to the event's confirmed attendees (or its waiting list).
    ``subject`` and ``body`` are plain text (the templates escape them); replies reach
    ``sender_email``. Returns how many were queued."""
    status = RegistrationStatus(audience)
    batch = secrets.token_hex(8)
    count = 0
    for registration in await _holders(session, event, status):
        minted = await mint_links(session, clock, registration, signer=signer)
        await enqueue(
            session,
            clock,
            message=Broadcast(
                **place_fields(registration, event, minted, None),
                subject=subject,
                body=body,
                sender_name=sender_name,
                sender_email=sender_email,
            ),
            recipient=registration.email,
            dedupe_key=f"event:{event.id}:broadcast:{batch}:{registration.id}",
            event_id=event.id,
        )
        count += 1
    return count
