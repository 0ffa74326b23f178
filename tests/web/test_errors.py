"""When things break, people get a page that helps, and nothing private leaks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from events.app import create_app
from events.config import Settings
from events.db import Database
from events.registration.tokens import new_token


async def _client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(env="test", database_url=url, secret_key="k" * 40, page_cache_seconds=0)
    database = Database.from_url(url)
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await database.dispose()


@pytest.fixture
async def broken_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # A database that was never migrated: it answers, but every query for events fails.
    async for client in _client(f"sqlite:///{tmp_path / 'unmigrated_test.sqlite3'}"):
        yield client


@pytest.fixture
async def unreachable_client() -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on port 1: the connection is refused at once.
    async for client in _client("postgresql://postgres@127.0.0.1:1/nothing_test"):
        yield client


async def test_server_error_gives_a_friendly_page_without_details(
    broken_client: httpx.AsyncClient,
) -> None:
    response = await broken_client.get("/events?q=someone@example.org")
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.text
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert "someone@example.org" not in response.text


async def test_server_error_in_the_api_is_json(broken_client: httpx.AsyncClient) -> None:
    response = await broken_client.get("/api/v1/events")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


async def test_readiness_says_unavailable_when_the_database_does_not_answer(
    unreachable_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert (await unreachable_client.get("/healthz")).status_code == 200  # the process is alive


async def test_an_error_on_a_secret_link_logs_neither_token_nor_personal_data(
    broken_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = new_token()
    with caplog.at_level(logging.DEBUG, logger="events"):
        response = await broken_client.get(f"/r/{token}?email=someone@example.org")
        await broken_client.post(
            "/api/v1/events/some-event/registrations",
            json={"name": "Jo", "email": "jo.private@example.org"},
        )
    assert response.status_code in (404, 500)
    ours = [r for r in caplog.records if r.name.startswith("events")]
    assert ours, "the errors were logged"
    text = "\n".join(caplog.handler.format(r) for r in ours)
    assert "Traceback" in text, "with their tracebacks"
    assert token not in text
    assert "someone@example.org" not in text
    assert "jo.private@example.org" not in text
