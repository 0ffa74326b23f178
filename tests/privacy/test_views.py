"""The privacy pages as members meet them."""

from __future__ import annotations

import httpx

from events.privacy import service
from events.privacy.views import PER_ADDRESS, PER_EMAIL
from tests.factories import Factory, register
from tests.registration.helpers import csrf_token, outbox, registrations


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_token(client, "/privacy")
    return await client.post(
        "/privacy", data={"email": email, "csrf_token": token}, follow_redirects=True
    )


async def test_the_answer_is_the_same_byte_for_byte_for_known_and_unknown_emails(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    await register(make, event, "known@example.org")
    known = await _ask(client, "known@example.org")
    unknown = await _ask(client, "unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    # Post/Redirect/Get to one address for everyone, then the same page byte for byte.
    assert [r.status_code for r in known.history] == [r.status_code for r in unknown.history]
    assert [r.headers["location"] for r in known.history] == ["/privacy/requested"]
    assert [r.headers["location"] for r in unknown.history] == ["/privacy/requested"]
    assert known.content == unknown.content
    assert known.headers["cache-control"] == "no-store"
    assert "known@example.org" not in known.text
    sent = [m.recipient for m in await outbox(make.database, "subject_access")]
    assert sent == ["known@example.org", "unknown@example.org"], "each to its own address"


async def test_a_bad_address_is_named_next_to_the_field_and_nothing_is_sent(
    client: httpx.AsyncClient, make: Factory
) -> None:
    response = await _ask(client, "not an address\x00")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text and "right format" in response.text
    assert not await outbox(make.database, "subject_access")


async def test_without_the_csrf_token_nothing_happens(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await client.get("/privacy")
    response = await client.post("/privacy", data={"email": "jo@example.org"})
    assert response.status_code == 403
    assert not await outbox(make.database, "subject_access")


async def test_the_erase_link_asks_first_then_erases_once(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=3)
    await register(make, event, "jo@example.org")
    await _ask(client, "jo@example.org")
    [message] = await outbox(make.database, "subject_access")
    link = f"/privacy/erase/{message.payload['erase_token']}"

    page = await client.get(link)
    assert page.status_code == 200 and "Yes, erase my data" in page.text
    assert [r.erased_at for r in await registrations(make.database, event.id)] == [None]

    token = await csrf_token(client, link)
    done = await client.post(link, data={"csrf_token": token})
    assert done.status_code == 200 and "1 registration erased" in done.text
    [row] = await registrations(make.database, event.id)
    assert row.erased_at is not None and "jo@example.org" not in row.email

    again = await client.get(link)
    wrong = await client.get("/privacy/erase/" + "A" * 43)
    assert again.status_code == wrong.status_code == 404
    assert again.text == wrong.text
    assert service.ErasureLinkNotFound.message in again.text


async def test_bad_addresses_cost_nothing_and_the_limit_keeps_the_form(
    client: httpx.AsyncClient, make: Factory
) -> None:
    token = await csrf_token(client, "/privacy")
    for _ in range(PER_ADDRESS + 1):
        bad = await client.post("/privacy", data={"email": "nope", "csrf_token": token})
        assert bad.status_code == 422
    answers = [
        await client.post("/privacy", data={"email": "jo@example.org", "csrf_token": token})
        for _ in range(PER_EMAIL + 1)
    ]
    assert [a.status_code for a in answers] == [303] * PER_EMAIL + [429]
    held = answers[-1]
    assert int(held.headers["retry-after"]) > 0 and "try again" in held.text
    assert 'value="jo@example.org"' in held.text
    assert len(await outbox(make.database, "subject_access")) == PER_EMAIL
    page = await client.get("/privacy/requested")
    assert page.status_code == 200 and "Check your email" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert len(await outbox(make.database, "subject_access")) == PER_EMAIL
