"""International addresses are accepted (issue 13 item 12): UTF-8 before the ``@`` and
internationalised domains, by every door that asks for an address, all stored one way, so
``exämple.com`` and ``xn--exmple-cua.com`` are one person; malformed addresses are still
refused with the same messages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from events.alerts.schemas import SubscribeInput
from events.config import Settings
from events.db import Database
from events.errors import InvalidInput
from events.registration.schemas import RegistrationInput, normalise_email, parse_email
from tests.factories import Factory
from tests.registration.helpers import csrf_token, outbox, registrations

FORMAT = "Enter an email address in the right format, like name@example.org."


def _registration(address: str) -> str:
    return RegistrationInput.parse(name="Jöran", email=address, consents=["privacy"]).email


def _alerts(address: str) -> str:
    return SubscribeInput.from_form({"email": address}).email


DOORS: dict[str, Callable[[str], str]] = {
    "registration, adding by hand, the APIs": _registration,
    "alerts": _alerts,
    "privacy requests, the command line": parse_email,
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("jöran@exämple.com", "jöran@exämple.com"),
        ("  JÖRAN@EXÄMPLE.COM ", "jöran@exämple.com"),
        ("jöran@xn--exmple-cua.com", "jöran@exämple.com"),  # the IDNA form: the same person
        ("jo\u0308ran@exa\u0308mple.com", "jöran@exämple.com"),  # decomposed: NFC
        ("sam@exämple.com", "sam@exämple.com"),
        ("user@straße.de", "user@straße.de"),
        ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"),
        ("Sam.O'Neil+events@Example.org", "sam.o'neil+events@example.org"),
    ],
)
def test_every_door_accepts_international_addresses_and_stores_them_alike(
    door: str, typed: str, stored: str
) -> None:
    assert DOORS[door](typed) == stored
    assert normalise_email(typed) == stored  # what an attendance report's address meets


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    "typed",
    [
        "not an email",
        "name@example",
        "a..b@example.org",
        "a@b@example.org",
        "Sam <sam@example.org>",
        '"quoted"@example.org',
        "sam@-example.org",
        "sam@exa mple.org",
        "sam@[127.0.0.1]",
        "sam@example.invalid",
        "jöran@xn--zz.com",  # looks like IDNA, is not
        "x" * 250 + "@example.org",
    ],
)
def test_every_door_refuses_malformed_addresses_with_the_same_message(
    door: str, typed: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        DOORS[door](typed)
    assert refused.value.fields["email"] in (
        FORMAT,
        "Email address must be 254 characters or fewer.",
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": False})


async def test_the_form_and_the_api_take_one_person_under_either_spelling_of_the_domain(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    form = await client.post(
        f"/events/{event.slug}/register",
        data={
            "csrf_token": csrf,
            "name": "Jöran",
            "email": "Jöran@EXÄMPLE.com",
            "consents": ["privacy"],
            "website": "",
        },
    )
    assert form.status_code == 303
    result = await client.get(form.headers["location"])
    assert "Your place is booked" in result.text
    api = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "Jöran", "email": "jöran@xn--exmple-cua.com"},
    )
    assert api.status_code == 201, api.text

    [only] = await registrations(database, event.id)
    assert only.email == "jöran@exämple.com"
    # (registering again resends the confirmation, to the one stored address)
    assert {m.recipient for m in await outbox(database, "confirmed")} == {"jöran@exämple.com"}

    refused = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "Jöran", "email": "jöran@exämple"},
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"email": FORMAT}


async def test_the_api_document_says_international_addresses_are_taken(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    for name in ("RegistrationRequest", "OrganiserRegistrationRequest"):
        schema = document["components"]["schemas"][name]["properties"]["email"]
        assert schema["format"] == "idn-email", name
