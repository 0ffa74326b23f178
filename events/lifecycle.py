"""An event's lifecycle as the application runs it: the catalogue changes the event, and
this one place applies what that change causes in the rooms that react to it.

``events.catalog.lifecycle`` changes the event and returns an ``EventChange``; ``apply``
turns the record into its effects, in the caller's transaction:

- capacity: a new capacity is recounted under the event's lock and promotes the first
  people waiting (``registration.service.change_capacity``);
- notices: an edit to anything the calendar invite shows (``catalog.fields.INVITE_FIELDS``)
  on a published event sends every confirmed registrant the update invite
  (``registration.notices.notify_event_updated``); a move of its time or place also tells
  the waiting list, without an invite (``notify_waitlist_moved``); a cancellation emails
  everyone confirmed or waiting (``notify_event_cancelled``);
- alerts: a first publication queues the topic alerts (``alerts.service.on_event_published``);
- the audit log: one row per operation (and per promotion), joining links never shown.

The console's views, the write API, the command line and the demo data all call these
functions, so an event changes the same way through every door.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.alerts import service as alerts
from events.audit import service as audit
from events.audit.service import SYSTEM, Actor
from events.catalog import lifecycle as catalog
from events.catalog.fields import HIDDEN_IN_AUDIT, EventInput
from events.catalog.lifecycle import EventChange, Operation
from events.catalog.models import Event, EventStatus
from events.clock import Clock
from events.errors import Conflict, InvalidInput
from events.kit.signing import Signer
from events.registration import capacity as places
from events.registration import notices
from events.registration import service as registrations
from events.registration.models import Registration, RegistrationStatus

__all__ = [
    "Applied",
    "EventChange",
    "EventInput",
    "apply",
    "cancel_event",
    "create_event",
    "duplicate_event",
    "publish_event",
    "unpublish_event",
    "update_event",
]


@dataclass(frozen=True)
class Applied:
    """A lifecycle operation's record and what applying it did: how many registrants were
    emailed (``notified``: confirmed places, and on a cancellation the waiting list too;
    ``waitlist_notified``: the waiting list told of a move), who was promoted by a capacity
    rise, how many topic alerts were queued."""

    change: EventChange
    notified: int = 0
    waitlist_notified: int = 0
    promoted: list[Registration] = field(default_factory=list)
    alerts: int = 0

    @property
    def event(self) -> Event:
        return self.change.event

    @property
    def changed(self) -> list[str]:
        return self.change.changed


def _audit_safe(values: dict[str, Any]) -> dict[str, Any]:
    """The joining link is a secret: the log says that it changed, never what it is."""
    return {k: ("changed" if k in HIDDEN_IN_AUDIT and v else v) for k, v in values.items()}


async def _capacity(
    session: AsyncSession, clock: Clock, change: EventChange, *, signer: Signer | None
) -> list[Registration]:
    if change.capacity is None or change.operation != Operation.updated:
        return []
    signer = _edits_need(signer)
    event = change.event
    try:
        promoted = await registrations.change_capacity(
            session, clock, event_id=event.id, capacity_=change.capacity.new, signer=signer
        )
    except Conflict as refused:
        raise InvalidInput({"capacity": refused.message}) from None
    # capacity and places_left were written by SQL: read them back.
    await session.refresh(event, ["capacity", "places_left"])
    return promoted


async def _record(
    session: AsyncSession, clock: Clock, change: EventChange, actor: Actor, notified: int
) -> None:
    event = change.event
    if change.operation in (Operation.created, Operation.duplicated):
        created = {"title": event.title, "slug": event.slug, "status": event.status.value}
        await audit.record(
            session, clock, actor, "event.created", event_id=event.id, after=_audit_safe(created)
        )
        if change.source is not None:
            await audit.record(
                session,
                clock,
                actor,
                "event.duplicated",
                event_id=change.source.id,
                after={"copy": event.slug},
            )
        return
    if change.operation == Operation.updated:
        old, new = audit.changes(*catalog.changed_values(change))
        if change.shown:
            old["ical_sequence"], new["ical_sequence"] = (
                change.sequence_before,
                change.sequence_after,
            )
        await audit.record(
            session,
            clock,
            actor,
            "event.updated",
            event_id=event.id,
            before=_audit_safe(old),
            after=_audit_safe(new),
        )
        return
    assert change.status_before is not None and change.status_after is not None
    before: dict[str, Any] = {"status": change.status_before.value}
    after: dict[str, Any] = {"status": change.status_after.value}
    if change.operation == Operation.cancelled:
        before["ical_sequence"] = change.sequence_before
        after.update(ical_sequence=change.sequence_after, emailed=notified)
    await audit.record(
        session,
        clock,
        actor,
        f"event.{change.operation.value}",
        event_id=event.id,
        before=before,
        after=after,
    )


def _edits_need(signer: Signer | None) -> Signer:
    if signer is None:
        raise ValueError("an edit can promote registrations and send links: it needs the signer")
    return signer


async def apply(
    session: AsyncSession,
    clock: Clock,
    change: EventChange,
    *,
    actor: Actor,
    signer: Signer | None,
) -> Applied:
    """Everything ``change`` causes outside the catalogue, in this transaction. Only an
    edit (``Operation.updated``) mints secret links (promoted places, update notices): it
    needs the ``signer``; the other operations pass None."""
    if change.nothing:
        return Applied(change)
    event = change.event
    promoted = await _capacity(session, clock, change, signer=signer)
    notified = waiting = alerts_queued = 0
    if change.invite_changed and event.status == EventStatus.published:
        notified = await notices.notify_event_updated(
            session, clock, event=event, changed=change.shown, signer=_edits_need(signer)
        )
    if change.times_or_place_changed and event.status == EventStatus.published:
        waiting = await notices.notify_waitlist_moved(
            session, clock, event=event, changed=change.moved, signer=_edits_need(signer)
        )
    if change.operation == Operation.cancelled:
        notified = await notices.notify_event_cancelled(session, clock, event=event)
    await _record(session, clock, change, actor, notified + waiting)
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
    # Topic subscribers hear of it once: the alerts' dedupe keys make a second
    # publication (after an unpublish) queue nothing.
    if change.status_after == EventStatus.published and change.status_changed:
        alerts_queued = await alerts.on_event_published(session, clock, event=event)
    return Applied(
        change,
        notified=notified,
        waitlist_notified=waiting,
        promoted=promoted,
        alerts=alerts_queued,
    )


# The operations --------------------------------------------------------------------------


async def create_event(
    session: AsyncSession,
    clock: Clock,
    data: EventInput,
    *,
    publish: bool = False,
    actor: Actor | None = None,
) -> Event:
    """Create an event as a draft (or published at once). Recorded in the audit log as the
    actor's doing (the system's when none is given)."""
    change = await catalog.create_event(session, clock, data, publish=publish)
    await apply(session, clock, change, actor=actor or SYSTEM, signer=None)
    return change.event


async def update_event(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    data: EventInput,
    actor: Actor,
    signer: Signer,
) -> Applied:
    """Apply an edit (see ``catalog.lifecycle.update_event``) and what it causes."""
    catalog.check(data)
    # The event's lock first: an edit serialises with registrations and other edits, so
    # two simultaneous reschedules raise the sequence twice, in order, never to one value.
    await places.lock_event(session, event.id)
    change = await catalog.update_event(session, clock, event=event, data=data)
    applied = await apply(session, clock, change, actor=actor, signer=signer)
    if not change.nothing:
        await session.refresh(change.event, ["region", "series", "campaign"])
    return applied


async def publish_event(
    session: AsyncSession, clock: Clock, event: Event, *, actor: Actor = SYSTEM
) -> Event:
    """Put a draft on the public pages. Publishing twice changes nothing."""
    change = await catalog.publish_event(session, clock, event)
    await apply(session, clock, change, actor=actor, signer=None)
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
    """Take a published event back to draft, unless anyone holds or waits for a place."""
    if event.status == EventStatus.published:
        await places.lock_event(session, event.id)
        taken = await active_registrations(session, event.id) > 0
    else:
        taken = False
    change = await catalog.unpublish_event(session, clock, event, has_registrations=taken)
    await apply(session, clock, change, actor=actor, signer=None)
    return event


async def cancel_event(
    session: AsyncSession, clock: Clock, event: Event, *, actor: Actor = SYSTEM
) -> Event:
    """Cancel an event and email everyone confirmed or waiting (confirmed places with a
    calendar cancellation). Cancelling twice changes nothing."""
    # Under the event's lock, so no registration slips in between the check and the notices.
    await places.lock_event(session, event.id)
    change = await catalog.cancel_event(session, clock, event)
    await apply(session, clock, change, actor=actor, signer=None)
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
    """A draft copy (see ``catalog.lifecycle.duplicate_event``), owned by the organiser
    making it (or, from the command line, the source's owner)."""
    change = await catalog.duplicate_event(
        session, clock, event=event, starts_on=starts_on, title=title, owner_id=actor.organiser_id
    )
    await apply(session, clock, change, actor=actor, signer=None)
    return change.event
