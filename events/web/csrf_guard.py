"""The CSRF guard every request passes: tokens filled into pages, checked on every change.

``CsrfMiddleware`` (pure ASGI, outside routing) does two things:

* **Fill.** In an HTML response it swaps the per-process placeholder for this visitor's
  token (``web.csrf``), setting the visitor cookie first if missing.
* **Enforce.** Every POST, PUT, PATCH and DELETE, whatever route it is for, is refused
  (403, the friendly ``csrf_failed`` page) unless (1) it is not cross-site: no
  ``Sec-Fetch-Site: cross-site`` and any ``Origin`` is this site's (``EVENTS_BASE_URL`` or
  the request's own host; no ``Origin`` at all, as old clients send, is accepted), and
  (2) its form carries a token valid for its cookies. ``Origin: null`` (what browsers send
  from a page whose Referrer-Policy is no-referrer, as ours is) is no evidence either way:
  ``Sec-Fetch-Site`` then decides, and the token always has to match. The body is read here
  and replayed to the route, so no view has to remember a call: a new form is protected by
  being there.

Exempt: views marked ``@csrf_exempt(reason)`` (the one-click unsubscribe of RFC 8058, which
mail providers post with no cookie; its secret link is the credential), and paths under
``/api/``. Those doors take no ambient credential a browser would add
on its own: the organiser write API authenticates by an ``Authorization: Bearer`` header
only (a request carrying only cookies is 401), and the public registration door takes only
``application/json`` (415 otherwise), a type no cross-site HTML form can send and that a
cross-site script can send only after a CORS preflight this app never grants.
``tests/web/test_csrf.py`` walks every route to hold all of this.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.web.csrf import (
    COOKIE_MAX_AGE,
    COOKIE_NAME,
    EXEMPT_ATTRIBUTE,
    FIELD_NAME,
    MAX_COOKIE,
    Csrf,
    CsrfFailed,
)
from events.web.errors import HTTP_MESSAGES, error_response

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PREFIXES = ("/api/",)
# Generous: the largest form is an attendance report upload (a few MB at most).
MAX_FORM_BODY = 32 * 1024 * 1024


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is treated as no cookie
                return {}
            found.update({key: morsel.value for key, morsel in jar.items()})
    return found


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def exempt_routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[re.Pattern[str], frozenset[str]]]:
    """(path pattern, methods) of the top-level routes whose view is marked exempt."""
    for route in routes:
        if isinstance(route, Route) and getattr(route.endpoint, EXEMPT_ATTRIBUTE, None):
            yield route.path_regex, frozenset(route.methods or ())


class TooLarge(Exception):
    pass


class CsrfMiddleware:
    """Fills in per-visitor tokens in HTML responses and refuses unsafe requests without one
    (pure ASGI; the form body is buffered once and replayed to the app)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csrf: Csrf,
        https: bool,
        base_url: str,
        session_cookie: str,
        exempt_views: Iterable[tuple[re.Pattern[str], frozenset[str]]] = (),
        exempt: tuple[str, ...] = EXEMPT_PREFIXES,
    ) -> None:
        self.app = app
        self.csrf = csrf
        self.marker = csrf.placeholder.encode()
        self.https = https
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.session_cookie = session_cookie
        self.exempt = exempt
        self.exempt_views = tuple(exempt_views)

    def guarded(self, scope: Scope) -> bool:
        path, method = scope["path"], scope["method"]
        if method not in UNSAFE or path.startswith(self.exempt):
            return False
        return not any(
            method in methods and pattern.match(path) for pattern, methods in self.exempt_views
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.guarded(scope):
            try:
                allowed, receive = await self._check(scope, receive)
            except TooLarge:
                code, message = HTTP_MESSAGES[413]
                response = error_response(Request(scope), 413, code, message)
                await response(scope, receive, send)
                return
            if not allowed:
                refused = CsrfFailed()
                response = error_response(
                    Request(scope), refused.status, refused.code, refused.message
                )
                await self._filling(response)(scope, receive, send)
                return
        await self.app(scope, receive, self._send_filled(scope, send))

    def _filling(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, self._send_filled(scope, send))

        return wrapped

    # Enforcing ---------------------------------------------------------------------------

    def cross_site(self, scope: Scope) -> bool:
        fetch_site = (_header(scope, b"sec-fetch-site") or "").strip().lower()
        if fetch_site == "cross-site":
            return True
        origin = _header(scope, b"origin")
        if origin is None:
            return False  # an old client; the token still has to match
        origin = origin.strip().lower()
        if origin == "null":
            # Browsers send "Origin: null" on a same-origin form post when the page's
            # Referrer-Policy is no-referrer (ours is). It says nothing about the sender,
            # so Sec-Fetch-Site decides where it is sent; without it, the token alone.
            return fetch_site not in ("", "same-origin")
        if origin == self.origin:
            return False
        host = (_header(scope, b"host") or "").strip().lower()
        # Behind a proxy that ends TLS the scheme may differ; the host may not.
        return not host or urlsplit(origin).netloc != host

    async def _check(self, scope: Scope, receive: Receive) -> tuple[bool, Receive]:
        body, replay = await self._buffer(receive)
        if self.cross_site(scope):
            return False, replay
        cookies = _cookies(scope)
        visitor = cookies.get(COOKIE_NAME)
        session = cookies.get(self.session_cookie, "")
        token = await self._token(scope, body)
        return self.csrf.valid(visitor, token, session), replay

    async def _buffer(self, receive: Receive) -> tuple[bytes, Receive]:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app will see it too
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BODY:
                raise TooLarge()
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return body, replay

    async def _token(self, scope: Scope, body: bytes) -> str | None:
        media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if media_type == "application/x-www-form-urlencoded":
            values = parse_qs(body.decode("latin-1"), max_num_fields=1000)
            found = values.get(FIELD_NAME)
            return found[0] if found else None
        if media_type == "multipart/form-data":
            delivered = False

            async def once() -> Message:
                nonlocal delivered
                if delivered:
                    return {"type": "http.disconnect"}
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}

            try:
                async with Request(scope, once).form() as form:
                    value = form.get(FIELD_NAME)
            except Exception:  # a malformed body carries no token
                return None
            return value if isinstance(value, str) else None
        return None

    # Filling -----------------------------------------------------------------------------

    def _send_filled(self, scope: Scope, send: Send) -> Callable[[Message], Awaitable[None]]:
        start: Message | None = None

        async def send_filled(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = message  # held until the body shows whether a form is in it
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and start is not None:
                held, start = start, None
                body: bytes = message.get("body", b"")
                if not message.get("more_body", False) and self.marker in body:
                    held, body = self._fill(scope, held, body)
                    message = {**message, "body": body}
                await send(held)
            await send(message)

        return send_filled

    def _session_after(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> str:
        """The session cookie the browser will hold after this response (a response that
        signs in or out sets or clears it), so the token fits the next request."""
        session = _cookies(scope).get(self.session_cookie, "")
        for name, value in headers:
            if name == b"set-cookie":
                jar: SimpleCookie = SimpleCookie()
                with contextlib.suppress(Exception):  # unreadable: keep the request's
                    jar.load(value.decode("latin-1"))
                if self.session_cookie in jar:
                    morsel = jar[self.session_cookie]
                    gone = morsel["max-age"] in ("0", 0) or not morsel.value.strip('"')
                    session = "" if gone else morsel.value
        return session

    def _fill(self, scope: Scope, start: Message, body: bytes) -> tuple[Message, bytes]:
        cookies = _cookies(scope)
        cookie = cookies.get(COOKIE_NAME)
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        if not cookie or len(cookie) > MAX_COOKIE:
            cookie = secrets.token_urlsafe(32)
            attributes = f"Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
            if self.https:
                attributes += "; Secure"
            headers.append((b"set-cookie", f"{COOKIE_NAME}={cookie}; {attributes}".encode()))
        token = self.csrf.token_for(cookie, self._session_after(scope, headers))
        body = body.replace(self.marker, token.encode())
        headers.append((b"content-length", str(len(body)).encode()))
        # A page carrying a per-visitor token must not be stored by shared caches; a page
        # that already forbids storing altogether (no-store: personal pages) keeps that.
        own = [v for k, v in headers if k == b"cache-control"]
        if not any(b"no-store" in v for v in own):
            headers = [(k, v) for k, v in headers if k != b"cache-control"]
            headers.append((b"cache-control", b"private, no-cache"))
        return {**start, "headers": headers}, body
