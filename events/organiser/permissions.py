"""Who may manage which event: the one rule, used by pages, exports and the API alike.

An admin manages every event; an organiser manages the events they own and those shared
with them. Anything else is ``EventNotManaged`` (404): another organiser's event looks
exactly like one that does not exist, whatever the URL or ID tried.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import Event
from events.organiser.errors import EventNotManaged
from events.organiser.models import Organiser, event_shares


def manageable(organiser: Organiser) -> ColumnElement[bool]:
    """A WHERE condition on ``Event`` selecting the events this organiser manages."""
    if organiser.is_admin:
        return true()
    shared = exists().where(
        event_shares.c.event_id == Event.id, event_shares.c.organiser_id == organiser.id
    )
    return (Event.owner_id == organiser.id) | shared


async def can_manage(session: AsyncSession, organiser: Organiser, event_id: int) -> bool:
    found = await session.execute(
        select(Event.id).where(Event.id == event_id, manageable(organiser))
    )
    return found.scalar_one_or_none() is not None


async def managed_event(
    session: AsyncSession,
    organiser: Organiser,
    *,
    slug: str | None = None,
    event_id: int | None = None,
    for_update: bool = False,
) -> Event:
    """The event by slug or id if this organiser manages it, else ``EventNotManaged``."""
    if (slug is None) == (event_id is None):
        raise TypeError("managed_event() needs exactly one of slug and event_id")
    query = select(Event).where(manageable(organiser))
    query = (
        query.where(Event.slug == slug) if slug is not None else query.where(Event.id == event_id)
    )
    if for_update:
        query = query.with_for_update()
    event = (await session.execute(query)).scalar_one_or_none()
    if event is None:
        raise EventNotManaged()
    return event
