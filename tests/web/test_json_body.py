"""Both JSON doors read bodies through one reader and answer its errors in one shape."""

from __future__ import annotations

import httpx
import pytest

from events.clock import FrozenClock
from events.db import Database
from tests.api.test_organiser_api import bearer, token_for
from tests.factories import Factory
from tests.organiser.helpers import new_organiser

CASES = [
    ("text/plain", b"{}", 415, "unsupported_media_type"),
    ("application/json", b'{"name": "' + b"x" * 300_000 + b'"}', 413, "too_large"),
    ("application/json", b"{", 400, "invalid_json"),
    ("application/json; charset=utf-8", b"[" * 30_000, 400, "invalid_json"),
    ("application/json", b"[]", 422, "invalid_input"),
]


@pytest.fixture
async def doors(
    make: Factory, database: Database, clock: FrozenClock
) -> list[tuple[str, dict[str, str]]]:
    event = await make.event("Json", capacity=5)
    organiser = await new_organiser(database, clock)
    return [
        (f"/api/v1/events/{event.slug}/registrations", {}),
        ("/api/v1/organiser/events", bearer(await token_for(database, clock, organiser))),
    ]


@pytest.mark.parametrize(("media_type", "body", "status", "code"), CASES)
async def test_both_json_doors_answer_body_errors_alike(
    client: httpx.AsyncClient,
    doors: list[tuple[str, dict[str, str]]],
    media_type: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    answers = []
    for path, headers in doors:
        response = await client.post(
            path, content=body, headers={**headers, "content-type": media_type}
        )
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        answer = response.json()
        assert answer["status"] == status and answer["code"] == code and answer["message"]
        if status == 422:
            assert answer["fields"] == {"body": "Send a JSON object."}
        answers.append(set(answer))
    assert answers[0] == answers[1]  # the same shape from both doors
