"""Fixtures for console tests: an organiser, an admin, and clients signed in as each."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from events.clock import FrozenClock
from events.db import Database
from events.organiser.models import Organiser, OrganiserRole
from tests.organiser.helpers import new_organiser, sign_in


@pytest.fixture
async def organiser(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock, role=OrganiserRole.organiser)


@pytest.fixture
async def admin(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock, role=OrganiserRole.admin)


@pytest.fixture
async def console(
    app: Starlette, database: Database, clock: FrozenClock, organiser: Organiser
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as ``organiser`` (role organiser)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, database, clock, organiser)
        yield client


@pytest.fixture
async def admin_console(
    app: Starlette, database: Database, clock: FrozenClock, admin: Organiser
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, database, clock, admin)
        yield client
