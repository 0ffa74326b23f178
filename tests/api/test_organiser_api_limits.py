"""The write API's rate limit: per organiser, shared by every token and process."""

from __future__ import annotations

import httpx
import pytest

from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.organiser.models import Organiser
from tests.api.test_organiser_api import API, bearer, token_for
from tests.factories import Factory
from tests.organiser.helpers import give_event, new_organiser


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, "api_rate_limit": 3})


async def test_an_organiser_past_the_limit_gets_429_with_retry_after_from_any_process(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    organiser: Organiser = await new_organiser(database, clock)
    event = await make.event("Mine")
    await give_event(database, event, organiser)
    tokens = [await token_for(database, clock, organiser) for _ in range(2)]
    apps = [create_app(settings, clock=clock, database=database) for _ in range(2)]
    codes = []
    for n in range(5):
        transport = httpx.ASGITransport(app=apps[n % 2], raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get(f"{API}/events/{event.slug}", headers=bearer(tokens[n % 2]))
            codes.append(response.status_code)
            last = response
    assert codes == [200, 200, 200, 429, 429]
    assert last.json()["code"] == "rate_limited" and int(last.headers["retry-after"]) > 0

    other = await new_organiser(database, clock)
    transport = httpx.ASGITransport(app=apps[0], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        theirs = await c.get(
            f"{API}/events/{event.slug}", headers=bearer(await token_for(database, clock, other))
        )
    assert theirs.status_code == 404, "another organiser has their own allowance"
