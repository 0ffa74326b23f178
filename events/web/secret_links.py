"""One throttle for every secret-link door: ``/r/``, ``/j/``, ``/c/``, privacy erase links
and alert confirm/unsubscribe links.

Each is a lookup by an unguessable token (256 bits), so guessing is hopeless; this throttle
makes it also loud and slow. Per client address, only **failed** lookups count (a token
that names nothing: the view raises ``NotFound`` or answers 404). Once an address has failed
``FAILURES`` times within ``WINDOW``, every secret-link request from it is answered 429 with
``Retry-After`` until the window ends, before any lookup runs.

Why failures only, with a modest limit: a real person follows their own working links as
often as they like and never meets the limit (a mistyped or expired link or two costs them
nothing), while a guesser fails on nearly every try and is stopped after ``FAILURES`` tries
per window, about 2,000 a day per address, against 2^256 possibilities. Counted in the
database (``kit.throttle``), so every process shares one count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from events.errors import NotFound, TooManyRequests
from events.web.context import app_context
from events.web.ratelimit import client_address

FAILURES = 30
WINDOW = dt.timedelta(minutes=15)
View = Callable[[Request], Awaitable[Response]]


class TooManyLinkFailures(TooManyRequests):
    code = "rate_limited"
    message = (
        "Too many links that do not work have been tried from your connection. Check the "
        "link in your email and try again later."
    )


def _key(request: Request) -> str:
    context = app_context(request)
    return "secret-link:" + client_address(request, context.settings.trusted_networks)


async def _failed(request: Request) -> None:
    await app_context(request).rate_limiter.hit(_key(request), FAILURES, window=WINDOW)


def secret_link(view: View) -> View:
    """Wrap a view that looks a row up by a secret token from its path."""

    @wraps(view)
    async def guarded(request: Request) -> Response:
        limiter = app_context(request).rate_limiter
        if (retry := await limiter.blocked(_key(request))) is not None:
            raise TooManyLinkFailures(retry)
        try:
            response = await view(request)
        except NotFound:
            await _failed(request)
            raise
        if response.status_code == 404:
            await _failed(request)
        return response

    return guarded
