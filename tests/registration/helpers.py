"""Reading back what registration wrote: registrations, outbox rows, tokens, places left."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from events.catalog.models import Event
from events.db import Database
from events.mail.models import OutboxMessage
from events.registration.models import Registration, RegistrationStatus


async def registrations(database: Database, event_id: int) -> list[Registration]:
    async with database.reader() as session:
        rows = await session.execute(
            select(Registration).where(Registration.event_id == event_id).order_by(Registration.id)
        )
        return list(rows.scalars())


async def by_status(
    database: Database, event_id: int, status: RegistrationStatus
) -> list[Registration]:
    return [r for r in await registrations(database, event_id) if r.status == status]


async def outbox(database: Database, kind: str | None = None) -> list[OutboxMessage]:
    async with database.reader() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list((await session.execute(query)).scalars())


async def places_left(database: Database, event_id: int) -> int | None:
    async with database.reader() as session:
        return (
            await session.execute(select(Event.places_left).where(Event.id == event_id))
        ).scalar_one()


async def latest_token(database: Database, email: str, key: str = "manage_token") -> str:
    """The raw token from the newest email queued for ``email``."""
    messages = [m for m in await outbox(database) if m.recipient == email and key in m.payload]
    token: Any = messages[-1].payload[key]
    assert isinstance(token, str)
    return token


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    """Load a page carrying a form (which sets the CSRF cookie) and read its token."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, "the page has no CSRF token"
    return found.group(1)
