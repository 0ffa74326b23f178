"""CSRF is enforced by the framework layer for every unsafe method of every route.

The walk below finds the routes itself (recursing into mounts), so a form added later is
covered without anyone remembering it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Mount, Route

from events.clock import FrozenClock
from events.db import Database
from events.organiser.models import Organiser
from events.web.csrf import EXEMPT_ATTRIBUTE
from events.web.csrf_guard import EXEMPT_PREFIXES, UNSAFE
from events.web.ids import IdConvertor
from tests.factories import Factory
from tests.organiser.helpers import PASSWORD, give_event, new_organiser, sign_in
from tests.registration.helpers import csrf_token

LOGIN = "/organiser/login"
ACCOUNT = "/organiser/account"


def unsafe_routes(
    routes: list[BaseRoute], prefix: str = "", *, marked: bool = False
) -> Iterator[tuple[str, str]]:
    """(method, concrete path) for every unsafe method every route takes; views marked
    ``@csrf_exempt`` only when ``marked``."""
    for route in routes:
        if isinstance(route, Mount):
            yield from unsafe_routes(route.routes, prefix + route.path, marked=marked)
        elif isinstance(route, Route):
            if bool(getattr(route.endpoint, EXEMPT_ATTRIBUTE, None)) != marked:
                continue
            values = {
                name: "1" if isinstance(convertor, (IntegerConvertor, IdConvertor)) else "x"
                for name, convertor in route.param_convertors.items()
            }
            path = prefix + route.path_format.format(**values)
            for method in sorted((route.methods or set()) & UNSAFE):
                yield method, path


@pytest.fixture
async def organiser(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock)


@pytest.fixture
async def signed(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock, organiser: Organiser
) -> httpx.AsyncClient:
    await sign_in(client, database, clock, organiser)
    await client.get(ACCOUNT)  # the visitor (CSRF) cookie is set: a valid cookie, no token
    return client


def _is_csrf_refusal(response: httpx.Response) -> bool:
    return response.status_code == 403 and "could not be accepted" in response.text


async def test_every_unsafe_route_refuses_a_request_without_a_token(
    app: Starlette, signed: httpx.AsyncClient
) -> None:
    assert signed.cookies.get("events_csrf")
    checked, wrong = 0, []
    for method, path in unsafe_routes(app.routes):
        if path.startswith(EXEMPT_PREFIXES):
            continue
        bodies: tuple[dict[str, Any], ...] = (
            {"data": {"name": "x"}},
            {"files": {"file": ("a.csv", b"a,b\n")}},
        )
        for body in bodies:
            response = await signed.request(method, path, **body)
            if not _is_csrf_refusal(response):
                wrong.append((method, path, response.status_code))
            checked += 1
    assert wrong == []
    assert checked >= 40  # the walk found the console and public forms, not nothing


async def test_exempt_routes_take_no_ambient_credential(
    app: Starlette, signed: httpx.AsyncClient
) -> None:
    """What a cross-site form could send (cookies, a form body) never reaches a handler."""
    exempt = [(m, p) for m, p in unsafe_routes(app.routes) if p.startswith(EXEMPT_PREFIXES)]
    assert exempt
    for method, path in exempt:
        response = await signed.request(method, path, data={"name": "x"})
        if "/organiser/" in path:
            assert response.status_code == 401, (method, path)  # a bearer token only
        else:
            assert response.status_code == 415, (method, path)  # application/json only
            assert response.json()["code"] == "unsupported_media_type"


def test_only_the_one_click_unsubscribe_view_is_marked_exempt(app: Starlette) -> None:
    """Each marked view says why it is safe; adding one is a decision this test records."""
    assert list(unsafe_routes(app.routes, marked=True)) == [("POST", "/alerts/unsubscribe/x")]


async def test_a_valid_token_from_the_same_site_is_accepted(signed: httpx.AsyncClient) -> None:
    token = await csrf_token(signed, ACCOUNT)
    headers = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    out = await signed.post("/organiser/logout", data={"csrf_token": token}, headers=headers)
    assert out.status_code == 303


async def test_a_valid_token_without_origin_is_accepted(signed: httpx.AsyncClient) -> None:
    """Old clients send no Origin and no Sec-Fetch-Site: the token alone decides."""
    token = await csrf_token(signed, ACCOUNT)
    out = await signed.post("/organiser/logout", data={"csrf_token": token})
    assert out.status_code == 303


@pytest.mark.parametrize("fetch_site", [None, "same-origin"])
async def test_a_null_origin_from_our_own_page_is_accepted(
    signed: httpx.AsyncClient, fetch_site: str | None
) -> None:
    """Chromium posts a form with "Origin: null" when the page's Referrer-Policy is
    no-referrer, as ours is: that alone must not refuse our own forms."""
    token = await csrf_token(signed, ACCOUNT)
    headers = {"origin": "null"} | ({"sec-fetch-site": fetch_site} if fetch_site else {})
    out = await signed.post("/organiser/logout", data={"csrf_token": token}, headers=headers)
    assert out.status_code == 303


async def test_a_null_origin_still_needs_the_token(signed: httpx.AsyncClient) -> None:
    headers = {"origin": "null", "sec-fetch-site": "same-origin"}
    out = await signed.post("/organiser/logout", data={"csrf_token": "x" * 43}, headers=headers)
    assert _is_csrf_refusal(out)
    assert (await signed.get(ACCOUNT)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
        {"origin": "null", "sec-fetch-site": "same-site"},
        {"origin": "http://testserver.evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"origin": "http://testserver", "sec-fetch-site": "cross-site"},
    ],
)
async def test_a_cross_site_request_is_refused_even_with_a_valid_token(
    signed: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    token = await csrf_token(signed, ACCOUNT)
    out = await signed.post("/organiser/logout", data={"csrf_token": token}, headers=headers)
    assert _is_csrf_refusal(out)
    assert (await signed.get(ACCOUNT)).status_code == 200  # still signed in


async def test_the_configured_base_url_is_same_origin_behind_a_proxy(
    signed: httpx.AsyncClient,
) -> None:
    """EVENTS_BASE_URL's origin is ours even when the Host header differs (a proxy)."""
    token = await csrf_token(signed, ACCOUNT)
    out = await signed.post(
        "/organiser/logout",
        data={"csrf_token": token},
        headers={"origin": "http://testserver", "host": "internal:8000"},
    )
    assert out.status_code == 303


async def test_a_console_token_is_bound_to_the_login_session(
    signed: httpx.AsyncClient, database: Database, clock: FrozenClock, organiser: Organiser
) -> None:
    token = await csrf_token(signed, ACCOUNT)
    await sign_in(signed, database, clock, organiser)  # another session, same visitor cookie
    out = await signed.post("/organiser/logout", data={"csrf_token": token})
    assert _is_csrf_refusal(out)
    fresh = await csrf_token(signed, ACCOUNT)
    assert fresh != token
    assert (await signed.post("/organiser/logout", data={"csrf_token": fresh})).status_code == 303


async def test_a_public_token_is_not_a_console_token(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock, organiser: Organiser
) -> None:
    public = await csrf_token(client, "/privacy")
    await sign_in(client, database, clock, organiser)
    out = await client.post("/organiser/logout", data={"csrf_token": public})
    assert _is_csrf_refusal(out)


async def test_the_login_page_token_survives_signing_in_on_the_same_response(
    client: httpx.AsyncClient, organiser: Organiser
) -> None:
    """The page after login carries a token for the new session (the guard reads the
    Set-Cookie of the response it fills)."""
    token = await csrf_token(client, LOGIN)
    out = await client.post(
        LOGIN, data={"csrf_token": token, "email": organiser.email, "password": PASSWORD}
    )
    assert out.status_code == 303
    fresh = await csrf_token(client, ACCOUNT)
    assert (await client.post("/organiser/logout", data={"csrf_token": fresh})).status_code == 303


async def test_a_multipart_form_with_its_token_reaches_the_view(
    signed: httpx.AsyncClient, make: Factory, database: Database, organiser: Organiser
) -> None:
    # Started: an attendance report is taken only once the event has begun.
    event = await make.event("Uploads", starts_at=make.clock.now() - dt.timedelta(minutes=5))
    await give_event(database, event, organiser)
    path = f"/organiser/events/{event.slug}/attendance/import"
    token = await csrf_token(signed, path)
    report = b"Name (Original Name),User Email,Join Time\nA,a@example.org,now\n"
    out = await signed.post(
        path, data={"csrf_token": token}, files={"file": ("zoom.csv", report, "text/csv")}
    )
    assert not _is_csrf_refusal(out)
    assert out.status_code in (200, 303), out.text
