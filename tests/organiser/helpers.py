"""Organiser accounts and signed-in clients for console tests."""

from __future__ import annotations

import itertools

import httpx
from sqlalchemy import insert, update

from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser import auth
from events.organiser.models import Organiser, OrganiserRole, event_shares
from events.organiser.web import COOKIE_NAME, COOKIE_PATH, cookie_value
from tests.factories import TEST_SIGNER

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


async def new_organiser(
    database: Database,
    clock: FrozenClock,
    *,
    role: OrganiserRole = OrganiserRole.organiser,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "",
) -> Organiser:
    async with unit_of_work(database.writer) as session:
        return await auth.create_organiser(
            session,
            clock,
            email=email or f"organiser{next(_counter)}@union.example",
            password=password,
            role=role,
            name=name or "Sam Organiser",
        )


async def sign_in(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock, organiser: Organiser
) -> str:
    """Give ``client`` a session cookie for ``organiser`` (as the login page would); returns
    the raw session token."""
    async with unit_of_work(database.writer) as session:
        merged = await session.merge(organiser, load=False)
        started = await auth.start_session(session, clock, merged, signer=TEST_SIGNER)
    client.cookies.set(
        COOKIE_NAME,
        cookie_value(TEST_SIGNER, started.token),
        domain="testserver.local",  # how http.cookiejar files a dotless host
        path=COOKIE_PATH,
    )
    return started.token


async def give_event(database: Database, event: Event, organiser: Organiser) -> None:
    """Make ``organiser`` the owner of ``event``."""
    async with unit_of_work(database.writer) as session:
        await session.execute(
            update(Event).where(Event.id == event.id).values(owner_id=organiser.id)
        )


async def share_event(database: Database, event: Event, organiser: Organiser) -> None:
    async with unit_of_work(database.writer) as session:
        await session.execute(
            insert(event_shares).values(event_id=event.id, organiser_id=organiser.id)
        )
