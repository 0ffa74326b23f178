"""The page cache as visitors meet it: fast repeats, never stale by more than its time to
live, cleared at once by a change made in this process, and still safe (headers, CSRF)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from events.app import create_app
from events.catalog.models import Event
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from tests.factories import Factory

TTL = 0.5


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> Starlette:
    cached = settings.model_copy(update={"page_cache_seconds": TTL})
    return create_app(cached, clock=clock, database=database)


async def _set_places_left(database: Database, event_id: int, value: int) -> None:
    """A change made by another process: this process's cache is not told."""
    async with database.writer() as session, session.begin():
        await session.execute(update(Event).where(Event.id == event_id).values(places_left=value))


async def test_cached_page_is_never_staler_than_its_time_to_live(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Cached webinar", capacity=40)
    assert "40 places left" in (await client.get(f"/events/{event.slug}")).text
    await _set_places_left(make.database, event.id, 7)
    # Within the time to live the cached copy may still be served...
    assert "40 places left" in (await client.get(f"/events/{event.slug}")).text
    await asyncio.sleep(TTL + 0.1)
    # ...but never after it.
    assert "7 places left" in (await client.get(f"/events/{event.slug}")).text


async def test_a_registration_in_this_process_shows_at_once(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Popular webinar", capacity=40)
    assert "40 places left" in (await client.get(f"/events/{event.slug}")).text
    response = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "Sam Teacher", "email": "sam@example.org", "consents": ["privacy"]},
    )
    assert response.status_code == 201, response.text
    assert "39 places left" in (await client.get(f"/events/{event.slug}")).text
    api = (await client.get(f"/api/v1/events/{event.slug}")).json()
    assert api["places_left"] == 39


async def test_cached_pages_keep_security_headers_and_per_visitor_csrf_tokens(
    app: Starlette, make: Factory
) -> None:
    event = await make.event("Form page", capacity=10)
    transport = httpx.ASGITransport(app=app)
    tokens = []
    for _ in range(2):  # two visitors, the second served from the cache
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as visitor:
            response = await visitor.get(f"/events/{event.slug}")
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors" in response.headers["content-security-policy"]
            found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
            assert found and not found.group(1).startswith("csrf-")
            assert "events_csrf=" in response.headers["set-cookie"]
            tokens.append(found.group(1))
    assert tokens[0] != tokens[1], "each visitor gets their own token, cached page or not"


async def test_head_of_a_cached_page_has_no_body(client: httpx.AsyncClient, make: Factory) -> None:
    event = await make.event("Head request")
    await client.get(f"/events/{event.slug}")
    response = await client.head(f"/events/{event.slug}")
    assert response.status_code == 200 and response.content == b""


async def test_listing_with_a_bad_filter_is_cached_with_its_422(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Anything")
    first = await client.get("/events?kind=party")
    second = await client.get("/events?kind=party")
    assert first.status_code == second.status_code == 422
    assert "Kind must be one of" in second.text
