"""CSRF protection for every form: a signed double-submit token that works on cached pages.

Pages are served from a per-process cache, so their HTML cannot hold anything per visitor.
Templates therefore write a placeholder (``csrf_placeholder``, random per process, so page
content cannot forge it) as the form's ``csrf_token``; ``CsrfMiddleware`` swaps it for this
visitor's token in each HTML response, setting the ``events_csrf`` cookie first if missing.

The token is an HMAC of the cookie's random value keyed with the app secret. A POST handler
calls ``verify(request, form)``: a missing or wrong token is ``CsrfFailed`` (403) before
anything changes. Another site cannot read the cookie (nor is it sent with a cross-site POST:
SameSite=Lax), and cannot forge a matching token without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import Forbidden

COOKIE_NAME = "events_csrf"
FIELD_NAME = "csrf_token"
COOKIE_MAX_AGE = 7 * 24 * 3600


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = (
        "This form could not be accepted because it has expired or was sent from another "
        "site. Go back, reload the page and try again. Nothing has been changed."
    )


class Csrf:
    def __init__(self, secret: Callable[[], str]) -> None:
        # The secret is read on first use, not at start-up (in development reading it may
        # create the local key file).
        self._secret = secret
        self._key: bytes | None = None
        self.placeholder = f"csrf-{secrets.token_hex(16)}"

    def token_for(self, cookie_value: str) -> str:
        if self._key is None:
            self._key = hashlib.sha256(f"csrf:{self._secret()}".encode()).digest()
        digest = hmac.new(self._key, cookie_value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def valid(self, cookie_value: str | None, token: object) -> bool:
        if not cookie_value or not isinstance(token, str) or len(cookie_value) > 100:
            return False
        return hmac.compare_digest(self.token_for(cookie_value), token)

    def verify(self, request: Request, form: Mapping[str, Any]) -> None:
        if not self.valid(request.cookies.get(COOKIE_NAME), form.get(FIELD_NAME)):
            raise CsrfFailed()


def csrf_of(request: Request) -> Csrf:
    csrf: Csrf = request.app.state.csrf
    return csrf


def _cookie_from(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is treated as no cookie
                return None
            if COOKIE_NAME in jar:
                return jar[COOKIE_NAME].value
    return None


class CsrfMiddleware:
    """Fills in per-visitor CSRF tokens in HTML responses (pure ASGI, single-body only)."""

    def __init__(self, app: ASGIApp, *, csrf: Csrf, https: bool) -> None:
        self.app = app
        self.csrf = csrf
        self.marker = csrf.placeholder.encode()
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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

        await self.app(scope, receive, send_filled)

    def _fill(self, scope: Scope, start: Message, body: bytes) -> tuple[Message, bytes]:
        cookie = _cookie_from(scope)
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        if not cookie or len(cookie) > 100:
            cookie = secrets.token_urlsafe(32)
            attributes = f"Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
            if self.https:
                attributes += "; Secure"
            headers.append((b"set-cookie", f"{COOKIE_NAME}={cookie}; {attributes}".encode()))
        body = body.replace(self.marker, self.csrf.token_for(cookie).encode())
        headers.append((b"content-length", str(len(body)).encode()))
        # A page carrying a per-visitor token must not be stored by shared caches; a page
        # that already forbids storing altogether (no-store: personal pages) keeps that.
        own = [v for k, v in headers if k == b"cache-control"]
        if not any(b"no-store" in v for v in own):
            headers = [(k, v) for k, v in headers if k != b"cache-control"]
            headers.append((b"cache-control", b"private, no-cache"))
        return {**start, "headers": headers}, body
