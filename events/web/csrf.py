"""CSRF tokens: a signed double-submit token that works on cached pages.

Pages are served from a per-process cache, so their HTML cannot hold anything per visitor.
Templates therefore write a placeholder (``csrf_placeholder``, random per process, so page
content cannot forge it) as the form's ``csrf_token``; ``web.csrf_guard.CsrfMiddleware``
swaps it for this visitor's token in each HTML response, setting the ``events_csrf`` cookie
first if missing, and refuses every unsafe request whose token does not match.

The token is an HMAC, keyed with the signer's CSRF key (``kit.signing``, from the app
secret), of the visitor cookie's random value and of
the session cookie the request carries (the organiser's console session; empty on public
pages, where the browser does not send it). So a token is bound to the visitor and, in the
console, to one login session: it stops working when that session ends. Another site cannot
read either cookie (nor are they sent with a cross-site POST: SameSite=Lax), and cannot
forge a matching token without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from events.errors import Forbidden

COOKIE_NAME = "events_csrf"
FIELD_NAME = "csrf_token"
COOKIE_MAX_AGE = 7 * 24 * 3600
MAX_COOKIE = 100
MAX_SESSION_COOKIE = 200
EXEMPT_ATTRIBUTE = "csrf_exempt"
T = TypeVar("T")


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = (
        "This form could not be accepted because it has expired or was sent from another "
        "site. Go back, reload the page and try again. Nothing has been changed."
    )


class Csrf:
    def __init__(self, key: bytes) -> None:
        """``key``: the signer's CSRF key (``kit.signing.Signer.csrf_key``)."""
        if not key:
            raise ValueError("the CSRF key must not be empty")
        self._key = key
        self.placeholder = f"csrf-{secrets.token_hex(16)}"

    def token_for(self, cookie_value: str, session: str = "") -> str:
        message = f"{cookie_value}\x00{session}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def valid(self, cookie_value: str | None, token: object, session: str = "") -> bool:
        if (
            not cookie_value
            or not isinstance(token, str)
            or len(cookie_value) > MAX_COOKIE
            or len(session) > MAX_SESSION_COOKIE
        ):
            return False
        return hmac.compare_digest(self.token_for(cookie_value, session), token)


def csrf_exempt(reason: str) -> Callable[[T], T]:
    """Mark a view as taking unsafe requests without a CSRF token; ``reason`` says why that
    is safe (the CSRF guard reads the mark when the app is built; the route walk in
    ``tests/web/test_csrf.py`` lists every marked view)."""

    def mark(view: T) -> T:
        setattr(view, EXEMPT_ATTRIBUTE, reason)
        return view

    return mark
