"""The only code that changes ``events.places_left``.

The race it prevents: two people register for the last place at once. Code that reads
``places_left``, awaits anything, then writes ``places_left - 1`` lets both read 1 and both
get the place. Here the database decides inside the caller's transaction, with one
conditional statement (``UPDATE ... WHERE places_left > 0 RETURNING``): the row lock it takes
on PostgreSQL (and SQLite's single writer, begun with ``BEGIN IMMEDIATE``) makes the second
claimant see 0 and get ``FULL``. That lock is held until the caller commits, so every change to
one event's places and waiting list happens one transaction at a time, in order.

Every function refuses to run outside a transaction: a claim committed on its own, apart
from the registration it pays for, is exactly the bug this module exists to prevent.
"""

from __future__ import annotations

import enum

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from events.catalog.models import Event
from events.catalog.queries import PUBLIC_STATUSES
from events.registration.models import Registration, RegistrationStatus


class Claim(enum.Enum):
    CLAIMED = "claimed"  # a counted place was taken
    UNLIMITED = "unlimited"  # the event has no capacity limit
    FULL = "full"


class NotInTransaction(RuntimeError):
    pass


def _require_transaction(session: AsyncSession) -> None:
    if not session.in_transaction():
        raise NotInTransaction(
            "capacity changes must run inside the caller's unit of work (a transaction)"
        )


async def lock_event(session: AsyncSession, event_id: int) -> None:
    """Lock the event row until commit (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
    write transaction already holds the database's single write lock)."""
    _require_transaction(session)
    await session.execute(select(Event.id).where(Event.id == event_id).with_for_update())


# Built once (binding values at execution): on the registration path, building and
# cache-keying statements cost more than running them.
_LOCKED = select(Event).with_for_update().execution_options(populate_existing=True)
_LOCKED_BY_ID = _LOCKED.where(Event.id == bindparam("event_id"))
_LOCKED_BY_SLUG = _LOCKED.where(Event.slug == bindparam("slug"), Event.status.in_(PUBLIC_STATUSES))
_CLAIM = (
    update(Event)
    .where(Event.id == bindparam("event_id"), Event.places_left > 0)
    .values(places_left=Event.places_left - 1)
    .returning(Event.places_left)
    .execution_options(synchronize_session=False)
)


async def locked_event(
    session: AsyncSession, *, event_id: int | None = None, slug: str | None = None
) -> Event | None:
    """Read the event (by id, or a public one by slug) and lock its row until commit, in one
    statement (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction
    already holds the single write lock). The values read are current
    (``populate_existing``) and stay current until commit, because every change to places
    or the waiting list takes this same lock first."""
    _require_transaction(session)
    if slug is not None:
        result = await session.execute(_LOCKED_BY_SLUG, {"slug": slug})
    else:
        result = await session.execute(_LOCKED_BY_ID, {"event_id": event_id})
    return result.scalar_one_or_none()


async def claim_locked(session: AsyncSession, event: Event) -> Claim:
    """``claim_place`` for an event read by ``locked_event`` in this transaction: its
    ``places_left`` cannot change under the lock, so an unlimited or full event needs no
    statement; otherwise the same conditional UPDATE decides, and the object is kept current."""
    _require_transaction(session)
    if event.places_left is None:
        return Claim.UNLIMITED
    if event.places_left <= 0:
        return Claim.FULL
    row = (await session.execute(_CLAIM, {"event_id": event.id})).one_or_none()
    if row is None:  # pragma: no cover - only if the lock was not taken as documented
        return Claim.FULL
    set_committed_value(event, "places_left", row[0])
    return Claim.CLAIMED


async def claim_place(session: AsyncSession, event_id: int) -> Claim:
    """Take one place atomically, or say FULL. Never reads then writes."""
    _require_transaction(session)
    result = await session.execute(
        update(Event)
        .where(Event.id == event_id, (Event.places_left.is_(None)) | (Event.places_left > 0))
        .values(places_left=Event.places_left - 1)
        .returning(Event.places_left)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        return Claim.FULL
    return Claim.UNLIMITED if row[0] is None else Claim.CLAIMED


async def release_place(session: AsyncSession, event_id: int) -> bool:
    """Give one place back (never above capacity). True when a counted place was freed."""
    _require_transaction(session)
    result = await session.execute(
        update(Event)
        .where(
            Event.id == event_id,
            Event.places_left.is_not(None),
            Event.places_left < Event.capacity,
        )
        .values(places_left=Event.places_left + 1)
        .returning(Event.places_left)
        .execution_options(synchronize_session=False)
    )
    return result.one_or_none() is not None


async def set_capacity(session: AsyncSession, event_id: int, capacity: int | None) -> bool:
    """Change capacity and recount places_left under the event's lock. Refuses (returns
    False) when the new capacity is below the number of people already confirmed."""
    await lock_event(session, event_id)
    if capacity is None:
        await session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(capacity=None, places_left=None)
            .execution_options(synchronize_session=False)
        )
        return True
    # A recount (not arithmetic on the old value) under the lock: also right when the
    # event was unlimited before.
    confirmed = (
        await session.execute(
            select(func.count(Registration.id)).where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.confirmed,
            )
        )
    ).scalar_one()
    if confirmed > capacity:
        return False
    await session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(capacity=capacity, places_left=capacity - confirmed)
        .execution_options(synchronize_session=False)
    )
    return True
