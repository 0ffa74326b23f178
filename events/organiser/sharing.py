"""Sharing an event with other organiser accounts: who owns it, who else may manage it.

Only the event's owner or an admin changes who it is shared with; each change is written to
the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit import service as audit
from events.audit.service import Actor
from events.catalog.models import Event
from events.clock import Clock
from events.errors import Forbidden, InvalidInput
from events.organiser.models import Organiser, event_shares


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
