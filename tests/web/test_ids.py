"""Ids from paths, forms and bodies are checked against the database's range (a 32-bit
INTEGER on PostgreSQL): too large an id is "not found" or "invalid", never a 500."""

from __future__ import annotations

import httpx
import pytest

from events.clock import FrozenClock
from events.db import Database
from events.kit.ids import MAX_ID, parse_id, valid_id
from events.organiser.models import Organiser
from tests.api.test_organiser_api import bearer, token_for
from tests.factories import Factory
from tests.organiser.helpers import give_event, new_organiser, sign_in
from tests.registration.helpers import csrf_token

TOO_LARGE = str(MAX_ID + 1)  # 2147483648
HUGE = "9" * 30


@pytest.fixture
async def organiser(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock)


@pytest.fixture
async def signed(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock, organiser: Organiser
) -> httpx.AsyncClient:
    await sign_in(client, database, clock, organiser)
    return client


def test_parse_id_takes_only_what_a_row_id_can_be() -> None:
    assert [parse_id(v) for v in ("1", "2147483647", "007")] == [1, MAX_ID, 7]
    for bad in ("", "0", "-1", "1.0", " 1", "²", TOO_LARGE, HUGE, None, 5):
        assert parse_id(bad) is None, bad
    assert valid_id(MAX_ID) and not valid_id(MAX_ID + 1) and not valid_id(True)


@pytest.mark.parametrize("number", [TOO_LARGE, HUGE])
async def test_a_registration_action_with_too_large_an_id_is_not_found(
    signed: httpx.AsyncClient, make: Factory, database: Database, organiser: Organiser, number: str
) -> None:
    event = await make.event("Range")
    await give_event(database, event, organiser)
    base = f"/organiser/events/{event.slug}/registrations"
    token = await csrf_token(signed, base)
    assert (await signed.get(f"{base}/{number}/move")).status_code == 404
    posted = await signed.post(f"{base}/{number}/move", data={"csrf_token": token})
    assert posted.status_code == 404


async def test_marking_attendance_by_form_ignores_ids_out_of_range(
    signed: httpx.AsyncClient, make: Factory, database: Database, organiser: Organiser
) -> None:
    event = await make.event("Range form")
    await give_event(database, event, organiser)
    base = f"/organiser/events/{event.slug}/registrations"
    token = await csrf_token(signed, base)
    for data in ({"ids": [TOO_LARGE, HUGE]}, {"one": f"{TOO_LARGE}:yes"}):
        out = await signed.post(f"{base}/attended", data={"csrf_token": token, **data})
        assert out.status_code < 500, out.text


async def test_unsharing_with_too_large_an_organiser_id_is_not_a_server_error(
    signed: httpx.AsyncClient, make: Factory, database: Database, organiser: Organiser
) -> None:
    event = await make.event("Range share")
    await give_event(database, event, organiser)
    path = f"/organiser/events/{event.slug}/sharing"
    token = await csrf_token(signed, path)
    out = await signed.post(path, data={"csrf_token": token, "organiser_id": TOO_LARGE})
    assert out.status_code < 500, out.text


@pytest.mark.parametrize("number", [TOO_LARGE, HUGE])
async def test_revoking_an_api_token_with_too_large_an_id_is_not_found(
    signed: httpx.AsyncClient, number: str
) -> None:
    token = await csrf_token(signed, "/organiser/account/tokens")
    out = await signed.post(
        f"/organiser/account/tokens/{number}/revoke", data={"csrf_token": token}
    )
    assert out.status_code == 404


@pytest.mark.parametrize("number", [TOO_LARGE, HUGE])
async def test_a_private_join_link_with_too_large_an_event_id_is_not_found(
    client: httpx.AsyncClient, number: str
) -> None:
    assert (await client.get(f"/c/some-token/{number}/join")).status_code == 404


@pytest.mark.parametrize("number", [int(TOO_LARGE), int(HUGE), 0, -1])
async def test_the_attendance_api_refuses_ids_out_of_range(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    number: int,
) -> None:
    event = await make.event("Range API")
    await give_event(database, event, organiser)
    out = await client.post(
        f"/api/v1/organiser/events/{event.slug}/attendance",
        json={"registration_ids": [number]},
        headers=bearer(await token_for(database, clock, organiser)),
    )
    assert out.status_code == 422, out.text
    assert "registration_ids" in str(out.json().get("fields", {}))


@pytest.mark.parametrize("number", [TOO_LARGE, HUGE])
async def test_cancelling_by_api_with_too_large_an_id_is_not_found(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    number: str,
) -> None:
    event = await make.event("Range API cancel")
    await give_event(database, event, organiser)
    out = await client.post(
        f"/api/v1/organiser/events/{event.slug}/registrations/{number}/cancel",
        headers=bearer(await token_for(database, clock, organiser)),
    )
    assert out.status_code == 404
