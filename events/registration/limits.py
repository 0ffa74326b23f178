"""The registration rate limits, shared by the HTML form and the JSON API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from events.web.context import app_context
from events.web.ratelimit import client_address, limiter_of, too_many


async def _limit(request: Request, key: str, limit: int, what: str) -> Response | None:
    retry = await limiter_of(request).hit(key, limit)
    return None if retry is None else too_many(request, retry, what=what)


async def address_limit(request: Request) -> Response | None:
    """A 429 response when this client address has registered too often, else None."""
    settings = app_context(request).settings
    address = client_address(request, settings.trusted_networks)
    return await _limit(
        request, f"address:{address}", settings.rate_limit_per_address, "from your connection"
    )


async def email_limit(request: Request, email: str) -> Response | None:
    """A 429 response when this (normalised) email has been used too often, else None."""
    settings = app_context(request).settings
    return await _limit(
        request, f"email:{email}", settings.rate_limit_per_email, "for that email address"
    )
