"""POST /api/v1/events/{slug}/registrations, and hostile input through both doors."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from events.config import Settings
from events.db import Database
from tests.factories import Factory, register
from tests.registration.helpers import csrf_token, outbox, places_left, registrations


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": False})


def _url(slug: str) -> str:
    return f"/api/v1/events/{slug}/registrations"


async def test_api_register_answers_201_with_status_and_no_token(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    first = await client.post(_url(event.slug), json={"name": "A", "email": "a@example.org"})
    second = await client.post(
        _url(event.slug),
        json={
            "name": "B",
            "email": "b@example.org",
            "role": "senco",
            "setting": "special",
            "access_requirements": ["bsl", "live_captions"],
            "consents": ["privacy", "access_data"],
        },
    )
    assert (first.status_code, first.json()) == (201, {"status": "confirmed", "position": None})
    assert (second.status_code, second.json()) == (201, {"status": "waitlisted", "position": 1})
    assert "token" not in first.text
    assert await places_left(database, event.id) == 0


async def test_api_places_left_stays_exact_in_event_api(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=3)
    await client.post(_url(event.slug), json={"name": "A", "email": "a@example.org"})
    response = await client.get(f"/api/v1/events/{event.slug}")
    if response.status_code == 404:
        pytest.skip("the event API is not mounted yet")
    assert response.json()["places_left"] == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"registration_opens_at": 1}, "registration_not_open"),
        ({"registration_closes_at": -1}, "registration_closed"),
        ({"full": True}, "event_full"),
        ({"cancelled": True}, "event_cancelled"),
    ],
)
async def test_api_register_refuses_with_409_and_code(
    client: httpx.AsyncClient, make: Factory, fields: dict[str, int], code: str
) -> None:
    now = make.clock.now()
    kwargs: dict[str, object] = {"capacity": 1}
    if "registration_opens_at" in fields:
        kwargs["registration_opens_at"] = now + dt.timedelta(days=1)
    if "registration_closes_at" in fields:
        kwargs["registration_opens_at"] = now - dt.timedelta(days=2)
        kwargs["registration_closes_at"] = now - dt.timedelta(days=1)
    event = await make.event(**kwargs)  # type: ignore[arg-type]
    if "full" in fields:
        await register(make, event)
    if "cancelled" in fields:
        from events import lifecycle as catalog_service
        from events.db import unit_of_work

        async with unit_of_work(make.database.writer) as session:
            await catalog_service.cancel_event(session, make.clock, await session.merge(event))
    response = await client.post(_url(event.slug), json={"name": "A", "email": "a@example.org"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == code and body["message"]


async def test_api_register_for_draft_or_missing_event_is_404(
    client: httpx.AsyncClient, make: Factory
) -> None:
    draft = await make.event(publish=False)
    for slug in (draft.slug, "no-such-event"):
        response = await client.post(_url(slug), json={"name": "A", "email": "a@example.org"})
        assert response.status_code == 404


async def test_api_register_needs_json_content_type(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=3)
    response = await client.post(_url(event.slug), data={"name": "A", "email": "a@example.org"})
    assert response.status_code == 415
    assert await registrations(database, event.id) == []


HOSTILE_JSON = [
    ({"name": "A" * 5000, "email": "a@example.org"}, "name"),
    ({"name": "Lone \ud800 surrogate", "email": "a@example.org"}, "name"),
    ({"name": "A", "email": "not an email"}, "email"),
    ({"name": "A", "email": "a@example.org\u0000"}, None),  # NUL dropped, then valid
    ({"name": "A", "email": "<script>@x.org"}, "email"),
    ({"name": 42, "email": "a@example.org"}, "name"),
    ({"name": "A", "email": ["a@example.org"]}, "email"),
    (
        {"name": "A", "email": "a@example.org", "access_requirements": "bsl; DROP TABLE"},
        "access_requirements",
    ),
    ({"name": "A", "email": "a@example.org", "access_requirements": [1, 2]}, "access_requirements"),
    ({"name": "A", "email": "a@example.org", "role": {"$ne": 1}}, "role"),
    ({"name": "A", "email": "a@example.org", "consents": []}, "consents"),
    ({"name": None, "email": None}, "name"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE_JSON)
async def test_api_hostile_input_gets_field_error_and_changes_nothing(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    body: dict[str, object],
    field: str | None,
) -> None:
    event = await make.event(capacity=3)
    await register(make, event, "existing@example.org", name="Existing")
    before = [(r.name, r.email, r.status) for r in await registrations(database, event.id)]
    import json

    raw = json.dumps(body)  # keeps "\ud800" as an escape, as a hostile client would send it
    response = await client.post(
        _url(event.slug), content=raw, headers={"content-type": "application/json"}
    )
    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["code"] == "invalid_input" and field in payload["fields"]
    after = [(r.name, r.email, r.status) for r in await registrations(database, event.id)]
    assert after == before
    assert len(await outbox(database)) == 1


@pytest.mark.parametrize(
    "raw", [b"{", b"\xff\xfe", b"[1, 2]", b'"text"', b"null", b"{" * 5000, b"[" * 60_000]
)
async def test_api_malformed_json_is_a_clear_client_error(
    client: httpx.AsyncClient, make: Factory, raw: bytes
) -> None:
    event = await make.event(capacity=3)
    response = await client.post(
        _url(event.slug), content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.json()["message"]


async def test_html_and_script_in_every_field_are_stored_and_shown_escaped(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=3)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    csrf = await csrf_token(client, f"/events/{event.slug}")
    response = await client.post(
        f"/events/{event.slug}/register",
        data={
            "csrf_token": csrf,
            "name": evil,
            "email": "evil@example.org",
            "role": evil,
            "setting": evil,
            "access_requirements": [evil],
            "access_details": evil,
            "consents": ["privacy", evil],
        },
    )
    assert response.status_code == 422
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text
    response = await client.post(
        f"/events/{event.slug}/register",
        data={
            "csrf_token": csrf,
            "name": evil,
            "email": "evil@example.org",
            "access_requirements": ["other"],
            "access_details": evil + "\x00\x07 line",
            "consents": ["privacy", "access_data"],
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    [row] = await registrations(database, event.id)
    assert row.name == evil and "\x00" not in row.access_details
    from tests.registration.helpers import latest_token

    token = await latest_token(database, "evil@example.org")
    page = (await client.get(f"/r/{token}")).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


async def test_form_with_nul_and_very_long_values_gets_field_errors(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=3)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    response = await client.post(
        f"/events/{event.slug}/register",
        content=(
            f"csrf_token={csrf}&name={'N' * 300}&email=a%00%ff%40example.org&consents=privacy"
        ).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "200 characters or fewer" in response.text
    assert await registrations(database, event.id) == []
