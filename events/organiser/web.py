"""The organiser console's web plumbing: the session cookie, "who is signed in", and the
wrapper every console page goes through.

The cookie holds a random session token and an HMAC of it (``token.signature``): a forged
or altered cookie is refused before the database is asked. It is ``HttpOnly``,
``SameSite=Lax``, scoped to ``/organiser``, ``Secure`` when the base URL is https, and
expires with the session; the session row decides (logout ends it for every copy).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from events.kit.signing import Purpose, Signer
from events.organiser import auth
from events.organiser.errors import LoginRequired
from events.organiser.models import Organiser
from events.web.context import app_context
from events.web.uow import unit_of_work
from events.web.urls import path_for

COOKIE_NAME = "events_organiser"
COOKIE_PATH = "/organiser"
# Console pages are personal: never cached anywhere, never indexed, no referrer sent on.
PRIVATE_HEADERS = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex",
    "referrer-policy": "no-referrer",
}


def _signature(signer: Signer, token: str) -> str:
    digest = signer.mac(Purpose.SESSION_COOKIE, token)
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def cookie_value(signer: Signer, token: str) -> str:
    return f"{token}.{_signature(signer, token)}"


def token_from_cookie(signer: Signer, value: str | None) -> str | None:
    if not value or len(value) > 200 or "." not in value:
        return None
    token, _, signature = value.rpartition(".")
    if not hmac.compare_digest(_signature(signer, token), signature):
        return None
    return token


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    context = app_context(request)
    settings = context.settings
    response.set_cookie(
        COOKIE_NAME,
        cookie_value(context.signer, token),
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="lax")


def session_token(request: Request) -> str | None:
    return token_from_cookie(app_context(request).signer, request.cookies.get(COOKIE_NAME))


async def signed_in(request: Request) -> Organiser | None:
    """The organiser signed in on this request, or None; cached on ``request.state``."""
    if hasattr(request.state, "organiser"):
        found: Organiser | None = request.state.organiser
        return found
    organiser: Organiser | None = None
    token = session_token(request)
    if token is not None:
        context = app_context(request)
        async with unit_of_work(request) as session:
            row = await auth.session_organiser(session, context.clock, token, signer=context.signer)
        organiser = row[0] if row else None
    request.state.organiser = organiser
    return organiser


async def current_organiser(request: Request) -> Organiser:
    organiser = await signed_in(request)
    if organiser is None:
        raise LoginRequired()
    return organiser


def login_url(request: Request) -> str:
    """The login page, asking to come back here afterwards (a path on this site only)."""
    here = request.url.path
    if request.url.query:
        here += "?" + request.url.query
    return path_for(request, "organiser:login") + f"?next={quote(here, safe='')}"


def safe_next(target: str | None) -> str:
    """Where to go after login: a path in the console, never another site."""
    if (
        not target
        or not target.startswith(COOKIE_PATH)
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 for c in target)
    ):
        return f"{COOKIE_PATH}/"
    return target


Handler = Callable[[Request, Organiser], Awaitable[Response]]


def console_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a console view: signed-out visitors are sent to the login page (GET) or refused
    (other methods); the view gets the organiser; every answer is marked private."""

    @wraps(handler)
    async def view(request: Request) -> Response:
        organiser = await signed_in(request)
        if organiser is None:
            if request.method in ("GET", "HEAD"):
                return RedirectResponse(login_url(request), status_code=303)
            raise LoginRequired()
        response = await handler(request, organiser)
        for name, value in PRIVATE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return view


def render(request: Request, template: str, *, status_code: int = 200, **values: Any) -> Response:
    """A console page, with the signed-in organiser available to the layout."""
    context = app_context(request)
    values.setdefault("organiser", getattr(request.state, "organiser", None))
    html = context.renderer.render(template, request=request, **values)
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE_HEADERS)
