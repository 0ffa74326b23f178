"""The registration pages, driven as a browser would: form, CSRF, honeypot, answer pages,
management and cancelling by link, the personal joining link, series, rate limits."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from starlette.applications import Starlette

from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.registration.models import RegistrationStatus
from tests.catalog.test_views import _assert_accessible_shape
from tests.factories import Factory, register
from tests.registration.helpers import (
    by_status,
    csrf_token,
    latest_token,
    outbox,
    places_left,
    registrations,
)


def _form(csrf: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Sam Teacher",
        "email": "sam@example.org",
        "consents": ["privacy"],
        "website": "",
    }
    data.update(fields)
    return data


async def test_event_page_carries_an_accessible_registration_form(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=10, members_only=True)
    response = await client.get(f"/events/{event.slug}")
    html = response.text
    assert f'action="/events/{event.slug}/register"' in html
    assert 'autocomplete="name"' in html and 'autocomplete="email"' in html
    assert 'id="membership_number"' in html
    assert html.count("<fieldset") >= 2 and "<legend>" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token and not token.group(1).startswith("csrf-"), "placeholder replaced per response"
    assert "events_csrf=" in response.headers["set-cookie"]
    _assert_accessible_shape(html)


async def test_event_page_shows_waiting_list_call_to_action_when_full(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event)
    html = (await client.get(f"/events/{event.slug}")).text
    assert "Join the waiting list" in html


async def test_event_page_has_no_form_when_full_without_waiting_list(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=1)
    await register(make, event)
    html = (await client.get(f"/events/{event.slug}")).text
    assert "full and has no waiting list" in html
    assert "registration-form" not in html


async def test_cached_event_page_gives_each_visitor_their_own_token(
    app: Starlette, make: Factory, settings: Settings
) -> None:
    app_context_obj = app.state.context
    app_context_obj.cache.ttl = 60  # the production cache, switched on for this test
    event = await make.event(capacity=10)
    tokens = []
    for _ in range(2):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as visitor:
            html = (await visitor.get(f"/events/{event.slug}")).text
            tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert tokens[0] != tokens[1]
    assert app_context_obj.cache._entries, "the page itself came from the cache"


async def test_register_form_confirms_and_says_an_email_is_on_its_way(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=10)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    posted = await client.post(f"/events/{event.slug}/register", data=_form(csrf))
    assert posted.status_code == 303, "Post/Redirect/Get"
    location = posted.headers["location"]
    assert location.startswith(f"/events/{event.slug}/registered/")
    response = await client.get(location)
    assert response.status_code == 200
    assert "Your place is booked" in response.text
    assert "An email is on its way" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    _assert_accessible_shape(response.text)
    assert len(await by_status(database, event.id, RegistrationStatus.confirmed)) == 1


async def test_register_form_tells_waiting_list_place(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event)
    await register(make, event)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    response = await client.post(
        f"/events/{event.slug}/register", data=_form(csrf), follow_redirects=True
    )
    assert "You are on the waiting list" in response.text
    assert "number <strong>2</strong>" in response.text


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_register_form_refuses_missing_or_wrong_csrf_token_and_changes_nothing(
    client: httpx.AsyncClient, make: Factory, database: Database, token: str | None
) -> None:
    event = await make.event(capacity=10)
    await csrf_token(client, f"/events/{event.slug}")  # the visitor has a cookie
    data = _form(token or "")
    if token is None:
        data.pop("csrf_token")
    response = await client.post(f"/events/{event.slug}/register", data=data)
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert await registrations(database, event.id) == []
    assert await outbox(database) == []


async def test_register_form_refuses_token_from_another_visitor(
    app: Starlette, client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=10)
    theirs = await csrf_token(client, f"/events/{event.slug}")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as attacker:
        await csrf_token(attacker, f"/events/{event.slug}")
        response = await attacker.post(f"/events/{event.slug}/register", data=_form(theirs))
    assert response.status_code == 403
    assert await registrations(database, event.id) == []


async def test_register_form_shows_errors_next_to_fields_and_keeps_input(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=10)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    response = await client.post(
        f"/events/{event.slug}/register",
        data=_form(
            csrf, name="Sam <b>Teacher</b>", email="not-an-email", role="senco", consents=[]
        ),
    )
    assert response.status_code == 422
    html = response.text
    assert (
        'class="error-summary"' in html and 'href="#email"' in html and 'href="#consents"' in html
    )
    assert 'id="email-error"' in html and 'aria-invalid="true"' in html
    assert 'value="Sam &lt;b&gt;Teacher&lt;/b&gt;"' in html  # kept, escaped
    assert 'value="senco" selected' in html
    assert html.startswith("<!doctype html>") and "<title>Error:" in html
    _assert_accessible_shape(html)
    assert await registrations(database, event.id) == []


async def test_register_form_shows_refusal_with_input_kept_when_full(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=1)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    await register(make, event)
    response = await client.post(
        f"/events/{event.slug}/register", data=_form(csrf, name="Kept Name")
    )
    assert response.status_code == 409
    assert "This event is full" in response.text


async def test_register_form_members_only_needs_membership_number(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=5, members_only=True)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    missing = await client.post(f"/events/{event.slug}/register", data=_form(csrf))
    assert missing.status_code == 422 and 'id="membership_number-error"' in missing.text
    ok = await client.post(
        f"/events/{event.slug}/register",
        data=_form(csrf, membership_number="12 34 567"),
        follow_redirects=True,
    )
    assert "Your place is booked" in ok.text


async def test_honeypot_filled_gets_a_plain_page_and_no_place(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    response = await client.post(
        f"/events/{event.slug}/register", data=_form(csrf, website="http://spam.example")
    )
    assert response.status_code == 200 and "Thank you" in response.text
    assert await registrations(database, event.id) == []
    assert await outbox(database) == []


async def test_register_again_by_form_does_not_reveal_the_existing_registration(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}")
    first = await client.post(f"/events/{event.slug}/register", data=_form(csrf))
    second = await client.post(
        f"/events/{event.slug}/register", data=_form(csrf, email=" SAM@example.org")
    )
    assert first.status_code == second.status_code == 303
    # The same result page (what a newcomer would be told), identical but for the
    # per-response CSRF token value.
    assert first.headers["location"] == second.headers["location"]
    pages = [(await client.get(r.headers["location"])).text for r in (first, second)]
    assert re.sub(r'value="[^"]+"', "", pages[0]) == re.sub(r'value="[^"]+"', "", pages[1])
    assert len(await registrations(database, event.id)) == 1
    # Sent again at once (a double-click): nothing more is emailed (service.RESEND_QUIET).
    assert len(await outbox(database)) == 1


async def test_manage_page_shows_the_registration_and_offers_cancelling(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org", name="Jo <script>alert(1)</script>")
    token = await latest_token(make.database, "jo@example.org")
    response = await client.get(f"/r/{token}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "Your place is confirmed" in response.text
    assert "&lt;script&gt;" in response.text and "<script>alert" not in response.text
    assert f"/r/{token}/cancel" in response.text
    assert "meet.example.org" not in response.text
    _assert_accessible_shape(response.text)


async def test_cancel_by_link_needs_confirmation_then_cancels_once(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    page = await client.get(f"/r/{token}/cancel")
    assert "Cancel your place?" in page.text
    assert await places_left(database, event.id) == 4  # a GET changes nothing
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = await client.post(f"/r/{token}/cancel", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/r/{token}/cancelled"
    page = await client.get(done.headers["location"])
    assert "Your place is cancelled" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Your place is cancelled" in (await client.get(f"/r/{token}/cancelled")).text
    again = await client.post(
        f"/r/{token}/cancel", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert again.status_code == 200 and "already cancelled" in again.text
    assert await places_left(database, event.id) == 5
    assert len(await outbox(database, "cancelled")) == 1


async def test_cancel_without_csrf_token_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    response = await client.post(f"/r/{token}/cancel", data={})
    assert response.status_code == 403
    assert await places_left(database, event.id) == 4


async def test_wrong_and_missing_tokens_get_the_same_404(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    real = await latest_token(make.database, "jo@example.org")
    near_miss = real[:-1] + ("A" if real[-1] != "A" else "B")
    answers = [
        await client.get(f"/r/{token}")
        for token in (near_miss, "A" * 43, "short", "%00" * 10, "x" * 500)
    ]
    assert {r.status_code for r in answers} == {404}
    bodies = {r.text for r in answers}
    assert len(bodies) == 1


async def test_joining_link_redirects_only_while_confirmed_and_open(
    client: httpx.AsyncClient, make: Factory
) -> None:
    start = make.clock.now() + dt.timedelta(days=1)
    event = await make.event(capacity=1, waiting_list_enabled=True, starts_at=start)
    await register(make, event, "jo@example.org")
    await register(make, event, "wait@example.org")
    join = await latest_token(make.database, "jo@example.org", "join_token")
    waiting = await latest_token(make.database, "wait@example.org", "join_token")

    early = await client.get(f"/j/{join}")
    assert early.status_code == 200 and "The joining link opens on" in early.text
    assert "meet.example.org" not in early.text
    make.clock.set(start - dt.timedelta(minutes=10))
    opened = await client.get(f"/j/{join}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "https://meet.example.org/secret-room-123"
    assert "waiting list" in (await client.get(f"/j/{waiting}")).text
    assert (await client.get("/j/" + "B" * 43)).status_code == 404

    from events import lifecycle as catalog_service
    from events.db import unit_of_work

    async with unit_of_work(make.database.writer) as session:
        await catalog_service.cancel_event(session, make.clock, await session.merge(event))
    cancelled = await client.get(f"/j/{join}")
    assert cancelled.status_code == 200 and "has been cancelled" in cancelled.text


async def test_series_form_registers_for_every_future_session(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    series = await make.series("Small group interventions")
    now = make.clock.now()
    one = await make.event("Session one", series=series, capacity=5)
    two = await make.event(
        "Session two",
        series=series,
        capacity=1,
        waiting_list_enabled=True,
        starts_at=now + dt.timedelta(days=14),
    )
    await register(make, two)
    csrf = await csrf_token(client, f"/series/{series.slug}/register")
    posted = await client.post(f"/series/{series.slug}/register", data=_form(csrf))
    assert posted.status_code == 303
    assert posted.headers["location"].startswith(f"/series/{series.slug}/registered/")
    sent = len(await outbox(database))
    for _ in range(2):  # the result page, and a reload of it
        response = await client.get(posted.headers["location"])
        assert response.status_code == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "Session one" in response.text and "place booked" in response.text
        assert "waiting list, number 1" in response.text
    assert len(await registrations(database, one.id)) == 1
    assert len(await outbox(database)) == sent, "a reload sends nothing"


async def test_series_form_lists_exactly_the_sessions_it_books(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    from events import lifecycle as catalog_service
    from events.db import unit_of_work

    series = await make.series("Small group interventions")
    now = make.clock.now()
    await make.event("Past session", series=series, starts_at=now - dt.timedelta(days=7))
    called_off = await make.event("Called-off session", series=series)
    await make.event("Open session", series=series, starts_at=now + dt.timedelta(days=14))
    async with unit_of_work(make.database.writer) as session:
        await catalog_service.cancel_event(session, make.clock, await session.merge(called_off))
    form = await client.get(f"/series/{series.slug}/register")
    assert "Open session" in form.text
    assert "Called-off session" not in form.text and "Past session" not in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    done = await client.post(
        f"/series/{series.slug}/register", data=_form(csrf.group(1)), follow_redirects=True
    )
    assert "Open session" in done.text and "Called-off session" not in done.text
    assert await registrations(database, called_off.id) == []


class TestRateLimits:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "rate_limit_per_address": 3,
                "rate_limit_per_email": 2,
                "trusted_proxies": "127.0.0.1",
            }
        )

    async def test_register_answers_429_with_retry_after_when_address_limit_is_hit(
        self, client: httpx.AsyncClient, make: Factory, database: Database
    ) -> None:
        event = await make.event(capacity=50)
        answers = [
            await client.post(
                f"/api/v1/events/{event.slug}/registrations",
                json={"name": "P", "email": f"p{n}@example.org"},
            )
            for n in range(4)
        ]
        assert [r.status_code for r in answers] == [201, 201, 201, 429]
        assert answers[-1].json()["code"] == "rate_limited"
        assert int(answers[-1].headers["retry-after"]) > 0
        assert len(await registrations(database, event.id)) == 3

    async def test_register_answers_429_when_email_limit_is_hit(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        event = await make.event(capacity=50)
        codes = [
            (
                await client.post(
                    f"/api/v1/events/{event.slug}/registrations",
                    json={"name": "P", "email": "same@example.org"},
                    headers={"x-forwarded-for": f"10.0.0.{n}"},
                )
            ).status_code
            for n in range(3)
        ]
        assert codes == [201, 201, 429]

    async def test_forwarded_for_is_ignored_from_untrusted_peers(
        self, app: Starlette, make: Factory
    ) -> None:
        event = await make.event(capacity=50)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            codes = [
                (
                    await c.post(
                        f"/api/v1/events/{event.slug}/registrations",
                        json={"name": "P", "email": f"q{n}@example.org"},
                        headers={"x-forwarded-for": f"10.0.1.{n}"},
                    )
                ).status_code
                for n in range(4)
            ]
        assert codes == [201, 201, 201, 429]

    async def test_html_form_answers_429_with_a_clear_message(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        event = await make.event(capacity=50)
        csrf = await csrf_token(client, f"/events/{event.slug}")
        responses = [
            await client.post(
                f"/events/{event.slug}/register", data=_form(csrf, email=f"h{n}@example.org")
            )
            for n in range(4)
        ]
        assert responses[-1].status_code == 429
        assert "too many registrations" in responses[-1].text
        assert "Retry-After" in responses[-1].headers or "retry-after" in responses[-1].headers


class TestLimitsAreSharedBetweenProcesses:
    """Two app instances on one database stand for two processes (or machines): a client
    that used its allowance on one is refused by the other."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"rate_limit_enabled": True, "rate_limit_per_address": 2})

    async def test_the_second_process_counts_the_first_ones_hits(
        self, settings: Settings, clock: FrozenClock, database: Database, make: Factory
    ) -> None:
        event = await make.event(capacity=50)
        first, second = (create_app(settings, clock=clock, database=database) for _ in range(2))
        codes = []
        for n, app in enumerate((first, second, second)):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                response = await c.post(
                    f"/api/v1/events/{event.slug}/registrations",
                    json={"name": "P", "email": f"shared{n}@example.org"},
                )
                codes.append(response.status_code)
        assert codes == [201, 201, 429]
        assert len(await registrations(database, event.id)) == 2
