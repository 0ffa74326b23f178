"""Rate limits that fit real use (issue 16 item 1): one address is a whole staffroom, abuse
is held back per email, per email and event and by the honeypot, validation errors cost
nothing, and a limit's answer is the form again, as typed, saying when to try again."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.registration.models import RegistrationStatus
from tests.factories import Factory
from tests.registration.helpers import by_status, csrf_token, outbox, registrations


def _form(csrf: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Sam Teacher",
        "email": "sam@example.org",
        "role": "senco",
        "consents": ["privacy"],
        "website": "",
    }
    data.update(fields)
    return data


def test_the_defaults_let_a_staffroom_through() -> None:
    defaults = Settings(env="test", secret_key="x" * 40)
    assert defaults.rate_limit_enabled
    assert defaults.rate_limit_per_address >= 100


async def test_a_hundred_colleagues_from_one_address_all_get_a_place_with_default_settings(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    """A campaign-day burst from one school's connection: every one is answered with a
    place or a waiting-list number, all at one instant (the clock is frozen)."""
    event = await make.event(capacity=60, waiting_list_enabled=True)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    codes = [
        (
            await client.post(
                f"/events/{event.slug}/register",
                data=_form(csrf, name=f"Colleague {n}", email=f"colleague{n}@school.example"),
            )
        ).status_code
        for n in range(100)
    ]
    assert codes == [303] * 100
    assert len(await by_status(database, event.id, RegistrationStatus.confirmed)) == 60
    assert len(await by_status(database, event.id, RegistrationStatus.waitlisted)) == 40


async def test_the_json_door_lets_a_staffroom_through_too(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=100)
    codes = [
        (
            await client.post(
                f"/api/v1/events/{event.slug}/registrations",
                json={"name": f"C{n}", "email": f"api{n}@school.example"},
            )
        ).status_code
        for n in range(100)
    ]
    assert codes == [201] * 100
    assert len(await registrations(database, event.id)) == 100


async def test_one_email_a_hundred_times_is_held_back_with_the_form_as_typed(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=50)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    answers = [
        await client.post(
            f"/events/{event.slug}/register",
            data=_form(csrf, name="Persistent <Person>", email="same@school.example"),
        )
        for _ in range(100)
    ]
    codes = [a.status_code for a in answers]
    assert 303 in codes and codes.index(429) <= 10
    held = codes[codes.index(429) :]
    assert held == [429] * len(held) and len(held) >= 90
    last = answers[-1]
    assert int(last.headers["retry-after"]) > 0
    assert "too many registrations for that email address" in last.text
    assert "Please wait 10 minutes and try again" in last.text
    # The form again, with what was typed (escaped), not an error page.
    assert 'class="registration-form' in last.text or "registration-form" in last.text
    assert 'value="Persistent &lt;Person&gt;"' in last.text
    assert 'value="same@school.example"' in last.text
    assert 'value="senco" selected' in last.text
    assert len(await registrations(database, event.id)) == 1
    # Held-back attempts queue nothing.
    assert len(await outbox(database)) == 1, "and the same email again at once sends nothing"


async def test_one_email_is_held_back_per_event_before_its_overall_limit(
    client: httpx.AsyncClient, make: Factory, settings: Settings
) -> None:
    first, second = await make.event(capacity=5), await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{first.slug}/register")
    per_event = settings.rate_limit_per_email_event
    codes = [
        (await client.post(f"/events/{first.slug}/register", data=_form(csrf))).status_code
        for _ in range(per_event + 1)
    ]
    assert codes == [303] * per_event + [429]
    other = await client.post(f"/events/{second.slug}/register", data=_form(csrf))
    assert other.status_code == 303, "the same person may still book another event"


class TestValidationErrorsCostNothing:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "rate_limit_per_address": 1,
                "rate_limit_per_email": 1,
                "rate_limit_per_email_event": 1,
            }
        )

    async def test_form_errors_then_a_good_form(
        self, client: httpx.AsyncClient, make: Factory, database: Database
    ) -> None:
        event = await make.event(capacity=5, members_only=True)
        csrf = await csrf_token(client, f"/events/{event.slug}/register")
        path = f"/events/{event.slug}/register"
        for _ in range(5):
            bad = await client.post(path, data=_form(csrf, consents=[], membership_number="1"))
            assert bad.status_code == 422
            # A members-only event without a membership number: a field error, free too.
            no_number = await client.post(path, data=_form(csrf))
            assert no_number.status_code == 422
            assert 'id="membership_number-error"' in no_number.text
        good = await client.post(path, data=_form(csrf, membership_number="12 34 567"))
        assert good.status_code == 303
        assert len(await registrations(database, event.id)) == 1

    async def test_api_errors_then_a_good_body(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        event = await make.event(capacity=5)
        path = f"/api/v1/events/{event.slug}/registrations"
        for _ in range(5):
            bad = await client.post(path, json={"name": "", "email": "sam@example.org"})
            assert bad.status_code == 422
        good = await client.post(path, json={"name": "Sam", "email": "sam@example.org"})
        assert good.status_code == 201
        again = await client.post(path, json={"name": "Sam", "email": "sam@example.org"})
        assert again.status_code == 429 and again.json()["code"] == "rate_limited"

    async def test_series_form_errors_then_a_good_form(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        series = await make.series("Small group interventions")
        await make.event("Session one", series=series, capacity=5)
        path = f"/series/{series.slug}/register"
        csrf = await csrf_token(client, path)
        for _ in range(3):
            assert (await client.post(path, data=_form(csrf, email="nope"))).status_code == 422
        assert (await client.post(path, data=_form(csrf))).status_code == 303
        held = await client.post(path, data=_form(csrf, name="Kept"))
        assert held.status_code == 429 and 'value="Kept"' in held.text
        assert int(held.headers["retry-after"]) > 0


async def test_an_address_that_keeps_filling_the_honeypot_is_held_back(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    event = await make.event(capacity=5)
    path = f"/events/{event.slug}/register"
    csrf = await csrf_token(client, path)
    for n in range(settings.rate_limit_honeypot_per_address):
        bot = await client.post(path, data=_form(csrf, email=f"b{n}@x.example", website="x"))
        assert bot.status_code == 200 and "Thank you" in bot.text
    held = await client.post(path, data=_form(csrf, email="real@school.example"))
    assert held.status_code == 429
    assert re.search(r"too many registrations from your connection", held.text)
    assert int(held.headers["retry-after"]) <= settings.rate_limit_window_seconds
    assert await registrations(database, event.id) == []
    clock.advance(dt.timedelta(seconds=settings.rate_limit_window_seconds + 1))
    assert (
        await client.post(path, data=_form(csrf, email="real@school.example"))
    ).status_code == 303
