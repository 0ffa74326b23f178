"""The public API's read limit: per client address, counting only answers that must be
built, shared by every process through the database."""

from __future__ import annotations

import httpx
import pytest

from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from tests.factories import Factory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rate_limit_enabled": True, "api_read_rate_limit": 3, "page_cache_seconds": 5}
    )


async def test_building_answers_is_limited_per_address_and_cached_answers_are_free(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    await make.event("One")
    apps = [create_app(settings, clock=clock, database=database) for _ in range(2)]

    async def get(app_index: int, path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=apps[app_index], raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(path)

    first = await get(0, "/api/v1/events?per_page=1")
    again = [await get(0, "/api/v1/events?per_page=1") for _ in range(5)]  # from the cache
    assert {r.status_code for r in [first, *again]} == {200}
    built = [await get(n % 2, f"/api/v1/events?per_page={n}") for n in (2, 3, 4)]
    assert [r.status_code for r in built] == [200, 200, 429], "counted across processes"
    refused = built[-1]
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert (await get(0, "/api/v1/events?per_page=1")).status_code == 200, "cached: still served"
