"""Signing in and out, sessions, throttling, password change, API tokens, CSRF."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.kit import throttle
from events.kit.models import ThrottleCounter
from events.organiser import accounts, auth
from events.organiser.bearer import api_organiser
from events.organiser.models import ApiToken, Organiser, OrganiserRole
from events.organiser.web import COOKIE_NAME
from tests.factories import TEST_SIGNER
from tests.organiser.helpers import PASSWORD, new_organiser
from tests.registration.helpers import csrf_token

LOGIN = "/organiser/login"
# The cookie jar files cookies for a dotless host such as "testserver" under "testserver.local".
COOKIE_DOMAIN = "testserver.local"
NEW_PASSWORD = "a different long passphrase"


def _client(
    app: Starlette, *, base_url: str = "http://testserver", peer: str = "127.0.0.1"
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 4321))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def _login(
    client: httpx.AsyncClient, email: str, password: str, *, next_path: str | None = None
) -> httpx.Response:
    token = await csrf_token(client, LOGIN)
    data = {"csrf_token": token, "email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return await client.post(LOGIN, data=data)


def _session_cookie(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{COOKIE_NAME}="):
            return header
    raise AssertionError("no session cookie was set")


async def _organiser_row(database: Database, organiser_id: int) -> Organiser:
    async with database.reader() as session:
        found = await session.get(Organiser, organiser_id)
        assert found is not None
        return found


@pytest.fixture
async def signed(app: Starlette, organiser: Organiser) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as ``organiser`` through the login form."""
    async with _client(app) as browser:
        assert (await _login(browser, organiser.email, PASSWORD)).status_code == 303
        yield browser


# Signing in -------------------------------------------------------------------------------


async def test_signing_in_sets_a_private_session_cookie_and_opens_the_console(
    client: httpx.AsyncClient, organiser: Organiser
) -> None:
    response = await _login(client, organiser.email, PASSWORD, next_path="/organiser/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/organiser/account"
    cookie = _session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/organiser" in cookie
    assert "max-age=43200" in cookie and "secure" not in cookie
    page = await client.get("/organiser/account")
    assert page.status_code == 200
    assert organiser.email in page.text and "Sign out" in page.text
    # Never kept by a shared cache (see the report: CsrfMiddleware turns no-store into this).
    assert page.headers["cache-control"] in {"no-store", "private, no-cache"}


async def test_the_login_page_answers_head_and_get(client: httpx.AsyncClient) -> None:
    assert (await client.head(LOGIN)).status_code == 200
    page = await client.get(LOGIN)
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    assert '<label for="email">' in page.text and '<label for="password">' in page.text


async def test_email_is_matched_whatever_its_case_and_spaces(
    client: httpx.AsyncClient, organiser: Organiser
) -> None:
    response = await _login(client, f"  {organiser.email.upper()} ", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/organiser/"


async def test_cookie_is_secure_when_the_site_is_https(
    settings: Settings, clock: FrozenClock, database: Database, organiser: Organiser
) -> None:
    app = create_app(
        settings.model_copy(update={"base_url": "https://events.example"}),
        clock=clock,
        database=database,
    )
    async with _client(app, base_url="https://testserver") as client:
        response = await _login(client, organiser.email, PASSWORD)
    assert response.status_code == 303
    assert "secure" in _session_cookie(response).lower()


@pytest.mark.parametrize("email", ["unknown@union.example", "WRONG"])
async def test_a_wrong_email_or_password_is_refused_with_the_same_words(
    client: httpx.AsyncClient, organiser: Organiser, email: str
) -> None:
    wrong_password = await _login(client, organiser.email, "not the password at all")
    wrong_email = await _login(client, email, PASSWORD)
    for response in (wrong_password, wrong_email):
        assert response.status_code == 401
        assert "do not match an organiser account" in response.text
        assert COOKIE_NAME not in response.headers.get("set-cookie", "")
    assert (await client.get("/organiser/")).status_code == 303


async def test_empty_fields_are_named(client: httpx.AsyncClient, organiser: Organiser) -> None:
    response = await _login(client, "", "")
    assert response.status_code == 422
    assert 'href="#email"' in response.text and 'href="#password"' in response.text
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/organiser/",
        "/\\evil.example",
        "/organiser\\@evil.example",
        "///evil.example",
        "javascript:alert(1)",
        "/catalog",
        "",
    ],
)
async def test_next_never_leads_off_the_console(
    client: httpx.AsyncClient, organiser: Organiser, target: str
) -> None:
    response = await _login(client, organiser.email, PASSWORD, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/organiser/"


async def test_the_login_page_keeps_next_and_an_already_signed_in_visitor_moves_on(
    signed: httpx.AsyncClient, app: Starlette
) -> None:
    async with _client(app) as fresh:
        page = await fresh.get(LOGIN, params={"next": "/organiser/account/tokens"})
        assert 'name="next" value="/organiser/account/tokens"' in page.text
    again = await signed.get(LOGIN, params={"next": "/organiser/account"})
    assert again.status_code == 303 and again.headers["location"] == "/organiser/account"


# Signed out ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/organiser/",
        "/organiser/account",
        "/organiser/account/password",
        "/organiser/account/tokens",
    ],
)
async def test_signed_out_pages_send_you_to_sign_in_and_back(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/organiser/login?next=")
    assert httpx.URL(response.headers["location"]).params["next"] == path


@pytest.mark.parametrize(
    "path",
    [
        "/organiser/account/password",
        "/organiser/account/tokens",
        "/organiser/account/tokens/1/revoke",
    ],
)
async def test_signed_out_posts_are_refused(client: httpx.AsyncClient, path: str) -> None:
    token = await csrf_token(client, LOGIN)
    response = await client.post(path, data={"csrf_token": token, "name": "x"})
    assert response.status_code == 401


# Sessions end on the server ------------------------------------------------------------------


async def test_a_copied_cookie_stops_working_after_logout(
    client: httpx.AsyncClient, organiser: Organiser, app: Starlette
) -> None:
    await _login(client, organiser.email, PASSWORD)
    copied = client.cookies.get(COOKIE_NAME)
    assert copied
    async with _client(app) as thief:  # the copy works while the session lasts ...
        thief.cookies.set(COOKIE_NAME, copied, domain=COOKIE_DOMAIN, path="/organiser")
        assert (await thief.get("/organiser/account")).status_code == 200
    token = await csrf_token(client, "/organiser/account")
    out = await client.post("/organiser/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/organiser/login"
    assert f"{COOKIE_NAME}=" in out.headers["set-cookie"]  # cleared in this browser
    async with _client(app) as thief:
        thief.cookies.set(COOKIE_NAME, copied, domain=COOKIE_DOMAIN, path="/organiser")
        assert (await thief.get("/organiser/account")).status_code == 303


async def test_signing_in_again_ends_the_browsers_previous_session(
    client: httpx.AsyncClient, organiser: Organiser, app: Starlette
) -> None:
    await _login(client, organiser.email, PASSWORD)
    first = client.cookies.get(COOKIE_NAME)
    assert first
    token = await csrf_token(client, "/organiser/account")  # the login page would redirect
    again = await client.post(
        LOGIN, data={"csrf_token": token, "email": organiser.email, "password": PASSWORD}
    )
    assert again.status_code == 303 and client.cookies.get(COOKIE_NAME) != first
    assert (await client.get("/organiser/account")).status_code == 200
    async with _client(app) as old:
        old.cookies.set(COOKIE_NAME, first, domain=COOKIE_DOMAIN, path="/organiser")
        assert (await old.get("/organiser/account")).status_code == 303


async def test_a_session_expires(
    client: httpx.AsyncClient, organiser: Organiser, clock: FrozenClock
) -> None:
    await _login(client, organiser.email, PASSWORD)
    clock.advance(auth.SESSION_LIFETIME - dt.timedelta(minutes=1))
    assert (await client.get("/organiser/account")).status_code == 200
    clock.advance(dt.timedelta(minutes=2))
    assert (await client.get("/organiser/account")).status_code == 303


async def test_a_forged_cookie_is_refused(client: httpx.AsyncClient, organiser: Organiser) -> None:
    await _login(client, organiser.email, PASSWORD)
    value = client.cookies.get(COOKIE_NAME)
    assert value
    client.cookies.set(COOKIE_NAME, value[:-2] + "xx", domain=COOKIE_DOMAIN, path="/organiser")
    assert (await client.get("/organiser/account")).status_code == 303


# Password change -----------------------------------------------------------------------------


async def _change_password(
    client: httpx.AsyncClient, current: str, new: str, confirm: str | None = None
) -> httpx.Response:
    token = await csrf_token(client, "/organiser/account/password")
    return await client.post(
        "/organiser/account/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


async def test_changing_the_password_ends_every_other_session_but_keeps_this_one(
    client: httpx.AsyncClient, organiser: Organiser, app: Starlette
) -> None:
    await _login(client, organiser.email, PASSWORD)
    copied = client.cookies.get(COOKIE_NAME)
    assert copied
    async with _client(app) as thief:
        thief.cookies.set(COOKIE_NAME, copied, domain=COOKIE_DOMAIN, path="/organiser")
        assert (await thief.get("/organiser/account")).status_code == 200
    async with _client(app) as other_browser:
        await _login(other_browser, organiser.email, PASSWORD)
        changed = await _change_password(client, PASSWORD, NEW_PASSWORD)
        assert changed.status_code == 303
        assert changed.headers["location"] == "/organiser/account?changed=password"
        page = await client.get(changed.headers["location"])
        assert page.status_code == 200 and "Your password has been changed" in page.text
        assert (await other_browser.get("/organiser/account")).status_code == 303
    async with _client(app) as thief:
        thief.cookies.set(COOKIE_NAME, copied, domain=COOKIE_DOMAIN, path="/organiser")
        assert (await thief.get("/organiser/account")).status_code == 303
    async with _client(app) as later:
        assert (await _login(later, organiser.email, PASSWORD)).status_code == 401
        assert (await _login(later, organiser.email, NEW_PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field"),
    [
        ("wrong password entirely", NEW_PASSWORD, NEW_PASSWORD, "current_password"),
        (PASSWORD, "short", "short", "new_password"),
        (PASSWORD, PASSWORD, PASSWORD, "new_password"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "confirm_password"),
    ],
)
async def test_a_bad_password_change_says_why_and_changes_nothing(
    signed: httpx.AsyncClient,
    organiser: Organiser,
    database: Database,
    current: str,
    new: str,
    confirm: str,
    field: str,
) -> None:
    before = (await _organiser_row(database, organiser.id)).password_hash
    response = await _change_password(signed, current, new, confirm)
    assert response.status_code == 422
    assert f'href="#{field}"' in response.text and f'id="{field}-error"' in response.text
    assert (await _organiser_row(database, organiser.id)).password_hash == before
    assert (await signed.get("/organiser/account")).status_code == 200


# Throttling ------------------------------------------------------------------------------------


async def test_repeated_failures_bring_growing_delays_then_a_lock(
    client: httpx.AsyncClient, organiser: Organiser, clock: FrozenClock, settings: Settings
) -> None:
    free = settings.login_account_free_attempts
    for _ in range(free):
        assert (await _login(client, organiser.email, "wrong wrong wrong")).status_code == 401
    delays = []
    for _ in range(settings.login_account_lock_after - free - 1):
        response = await _login(client, organiser.email, "wrong wrong wrong")
        assert response.status_code == 429
        assert "do not match" in response.text and "Too many failed attempts" in response.text
        delays.append(int(response.headers["retry-after"]))
        # While blocked even the right password is not tried.
        blocked = await _login(client, organiser.email, PASSWORD)
        assert blocked.status_code == 429 and "do not match" not in blocked.text
        clock.advance(dt.timedelta(seconds=delays[-1]))
    assert delays == sorted(delays) and delays[-1] > delays[0]  # growing
    locked = await _login(client, organiser.email, "wrong wrong wrong")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == settings.login_lock_minutes * 60
    assert f"{settings.login_lock_minutes} minutes" in locked.text
    clock.advance(dt.timedelta(minutes=settings.login_lock_minutes - 1))
    assert (await _login(client, organiser.email, PASSWORD)).status_code == 429
    clock.advance(dt.timedelta(minutes=1, seconds=1))
    assert (await _login(client, organiser.email, PASSWORD)).status_code == 303


async def test_the_account_counter_applies_from_every_address_and_a_success_resets_it(
    app: Starlette, organiser: Organiser, settings: Settings
) -> None:
    free = settings.login_account_free_attempts
    for attempt in range(free - 1):
        async with _client(app, peer=f"198.51.100.{attempt + 1}") as c:
            assert (await _login(c, organiser.email, "wrong wrong wrong")).status_code == 401
    async with _client(app, peer="198.51.100.200") as c:
        assert (await _login(c, organiser.email, PASSWORD)).status_code == 303
    async with _client(app, peer="198.51.100.201") as c:
        for _ in range(free):
            assert (await _login(c, organiser.email, "wrong wrong wrong")).status_code == 401
        assert (await _login(c, organiser.email, "wrong wrong wrong")).status_code == 429


async def test_the_address_counter_stops_guessing_across_accounts(
    settings: Settings, clock: FrozenClock, database: Database, organiser: Organiser
) -> None:
    app = create_app(
        settings.model_copy(
            update={"login_address_free_attempts": 3, "login_address_lock_after": 5}
        ),
        clock=clock,
        database=database,
    )
    async with _client(app, peer="203.0.113.9") as attacker:
        for n in range(3):
            response = await _login(attacker, f"guess{n}@union.example", "password guess")
            assert response.status_code == 401
        assert (await _login(attacker, "guess9@union.example", "x y z")).status_code == 429
        # The real organiser, from this address, must wait too ...
        assert (await _login(attacker, organiser.email, PASSWORD)).status_code == 429
    # ... but from anywhere else signs in at once.
    async with _client(app, peer="192.0.2.44") as colleague:
        assert (await _login(colleague, organiser.email, PASSWORD)).status_code == 303


async def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(
    settings: Settings, clock: FrozenClock, database: Database, organiser: Organiser
) -> None:
    app = create_app(
        settings.model_copy(
            update={"login_address_free_attempts": 2, "trusted_proxies": "10.0.0.0/8"}
        ),
        clock=clock,
        database=database,
    )
    async with _client(app, peer="10.0.0.2") as proxy:
        for n in range(2):
            proxy.headers["x-forwarded-for"] = "203.0.113.5"
            assert (await _login(proxy, f"g{n}@union.example", "guess guess")).status_code == 401
        assert (await _login(proxy, "g3@union.example", "guess")).status_code == 429
        proxy.headers["x-forwarded-for"] = "203.0.113.6"
        assert (await _login(proxy, organiser.email, PASSWORD)).status_code == 303


async def test_concurrent_failures_are_all_counted(
    database: Database, clock: FrozenClock, organiser: Organiser
) -> None:
    """Hits are a locked read-modify-write: ten at once count ten, none lost."""
    policy = throttle.Policy(window=dt.timedelta(minutes=15), free=100)

    async def one() -> None:
        async with database.writer() as session, session.begin():
            await throttle.hit(session, clock, "test:concurrent", policy)

    await asyncio.gather(*(one() for _ in range(10)))
    async with database.reader() as session:
        assert await throttle.hits(session, "test:concurrent") == 10


async def test_a_rate_limit_policy_blocks_until_the_window_ends(
    database: Database, clock: FrozenClock
) -> None:
    policy = throttle.Policy.rate_limit(3, dt.timedelta(minutes=10))
    async with database.writer() as session, session.begin():
        verdicts = [await throttle.hit(session, clock, "rate:x", policy) for _ in range(3)]
        assert [v.blocked for v in verdicts] == [False, False, True]
        assert verdicts[-1].retry_after == dt.timedelta(minutes=10)
        clock.advance(dt.timedelta(minutes=4))
        assert await throttle.blocked(session, clock, "rate:x") == dt.timedelta(minutes=6)
        clock.advance(dt.timedelta(minutes=6))
        assert await throttle.blocked(session, clock, "rate:x") is None
        assert not (await throttle.hit(session, clock, "rate:x", policy)).blocked
        await throttle.reset(session, clock, "rate:x")
        assert await throttle.hits(session, "rate:x") == 0
    async with database.reader() as session:
        rows = (await session.execute(select(ThrottleCounter))).scalars().all()
        assert [r.key for r in rows] == []


# CSRF -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_login_without_a_valid_csrf_token_is_refused(
    client: httpx.AsyncClient, organiser: Organiser, token: str | None
) -> None:
    await client.get(LOGIN)  # the CSRF cookie is set
    data = {"email": organiser.email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = await client.post(LOGIN, data=data)
    assert response.status_code == 403
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_console_forms_without_a_valid_csrf_token_change_nothing(
    signed: httpx.AsyncClient, organiser: Organiser, database: Database, token: str | None
) -> None:
    before = (await _organiser_row(database, organiser.id)).password_hash
    await signed.get("/organiser/account/tokens")
    extra = {"csrf_token": token} if token else {}
    password = await signed.post(
        "/organiser/account/password",
        data={
            **extra,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    created = await signed.post("/organiser/account/tokens", data={**extra, "name": "Sync"})
    logout = await signed.post("/organiser/logout", data=extra)
    assert [password.status_code, created.status_code, logout.status_code] == [403, 403, 403]
    assert (await _organiser_row(database, organiser.id)).password_hash == before
    async with database.reader() as session:
        assert (await session.execute(select(ApiToken))).first() is None
    assert (await signed.get("/organiser/account")).status_code == 200  # still signed in


# API tokens -------------------------------------------------------------------------------------


@pytest.fixture
def api_app(app: Starlette) -> Starlette:
    """The real app plus one JSON route that answers who the bearer token belongs to."""

    async def whoami(request: Request) -> Response:
        organiser = await api_organiser(request)
        return JSONResponse({"email": organiser.email})

    app.router.routes.append(Route("/api/test-whoami", whoami))
    return app


@pytest.fixture
async def api(api_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(api_app) as c:
        yield c


async def _create_token(console: httpx.AsyncClient, name: str) -> tuple[httpx.Response, str]:
    token = await csrf_token(console, "/organiser/account/tokens")
    response = await console.post(
        "/organiser/account/tokens", data={"csrf_token": token, "name": name}
    )
    found = re.search(r'id="new-token"[^>]*value="(evt_[^"]+)"', response.text)
    assert found, response.text
    return response, found.group(1)


async def test_an_api_token_is_shown_once_and_stored_only_as_a_hash(
    signed: httpx.AsyncClient, database: Database, api: httpx.AsyncClient
) -> None:
    response, raw = await _create_token(signed, "Calendar sync")
    assert response.status_code == 200 and "will not be shown again" in response.text
    assert response.headers["cache-control"] in {"no-store", "private, no-cache"}
    listing = await signed.get("/organiser/account/tokens")
    assert "Calendar sync" in listing.text and raw[:12] in listing.text
    assert raw not in listing.text
    async with database.reader() as session:
        stored = (await session.execute(select(ApiToken))).scalar_one()
    assert stored.token_hash != raw and raw not in stored.token_hash and stored.last_used_at is None
    used = await api.get("/api/test-whoami", headers={"Authorization": f"Bearer {raw}"})
    assert used.status_code == 200
    async with database.reader() as session:
        stored = (await session.execute(select(ApiToken))).scalar_one()
    assert stored.last_used_at is not None
    assert "Never" not in (await signed.get("/organiser/account/tokens")).text


async def test_a_token_needs_a_name(signed: httpx.AsyncClient, database: Database) -> None:
    token = await csrf_token(signed, "/organiser/account/tokens")
    response = await signed.post(
        "/organiser/account/tokens", data={"csrf_token": token, "name": "  "}
    )
    assert response.status_code == 422 and 'href="#name"' in response.text
    async with database.reader() as session:
        assert (await session.execute(select(ApiToken))).first() is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer evt_not-a-real-token-at-all-000000000000",
        "Basic dXNlcjpwYXNz",
        "evt_x",
    ],
)
async def test_the_api_refuses_missing_or_unknown_tokens(
    api: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await api.get("/api/test-whoami", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "api_token_required"


async def test_a_revoked_token_is_refused(
    signed: httpx.AsyncClient, database: Database, api: httpx.AsyncClient
) -> None:
    _, raw = await _create_token(signed, "Old script")
    bearer = {"Authorization": f"Bearer {raw}"}
    assert (await api.get("/api/test-whoami", headers=bearer)).status_code == 200
    async with database.reader() as session:
        row = (await session.execute(select(ApiToken))).scalar_one()
    token = await csrf_token(signed, "/organiser/account/tokens")
    revoked = await signed.post(
        f"/organiser/account/tokens/{row.id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 303
    page = await signed.get(revoked.headers["location"])
    assert "has been revoked" in page.text and "Revoked" in page.text
    assert (await api.get("/api/test-whoami", headers=bearer)).status_code == 401


async def test_another_organisers_token_cannot_be_revoked(
    signed: httpx.AsyncClient,
    database: Database,
    clock: FrozenClock,
    api: httpx.AsyncClient,
) -> None:
    other = await new_organiser(database, clock, role=OrganiserRole.admin)
    async with database.writer() as session, session.begin():
        merged = await session.merge(other, load=False)
        created = await accounts.create_api_token(
            session, clock, merged, name="Theirs", signer=TEST_SIGNER
        )
    token = await csrf_token(signed, "/organiser/account/tokens")
    response = await signed.post(
        f"/organiser/account/tokens/{created.row.id}/revoke", data={"csrf_token": token}
    )
    assert response.status_code == 404
    missing = await signed.post(
        "/organiser/account/tokens/999999/revoke", data={"csrf_token": token}
    )
    assert missing.status_code == 404
    assert "Theirs" not in (await signed.get("/organiser/account/tokens")).text
    bearer = {"Authorization": f"Bearer {created.token}"}
    assert (await api.get("/api/test-whoami", headers=bearer)).json() == {"email": other.email}
