"""Bearer authentication for the write API: ``Authorization: Bearer evt_…``.

``api_organiser(request)`` is the one way an API handler learns who is calling. Tokens are
created and revoked in the console (``/organiser/account/tokens``); the database keeps only
their keyed hashes. A missing, malformed, unknown or revoked token, or one whose organiser
is deactivated, is ``ApiLoginRequired`` (401, a JSON problem under /api/).
"""

from __future__ import annotations

from starlette.requests import Request

from events import db
from events.errors import TooManyRequests
from events.organiser import accounts
from events.organiser.errors import LoginRequired
from events.organiser.models import Organiser
from events.web.context import app_context
from events.web.ratelimit import limiter_of


class ApiLoginRequired(LoginRequired):
    code = "api_token_required"
    message = (
        "Send an organiser API token in the Authorization header (Authorization: Bearer evt_…). "
        "Create one in the organiser console under Your account, API tokens."
    )


class ApiRateLimited(TooManyRequests):
    message = "Too many API requests with this organiser's tokens. Slow down and try again."


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or len(value) > 200:
        return None
    return value.strip()


async def api_organiser(request: Request) -> Organiser:
    """The organiser behind this request's bearer token, or ``ApiLoginRequired``.

    Cached on ``request.state``; notes the token's last use (its own short transaction, so a
    handler that fails afterwards still leaves the trace of the call)."""
    cached: Organiser | None = getattr(request.state, "api_organiser", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise ApiLoginRequired()
    context = app_context(request)
    async with db.unit_of_work(context.database.writer) as session:
        organiser = await accounts.api_token_user(
            session, context.clock, token, signer=context.signer
        )
    if organiser is None:
        raise ApiLoginRequired()
    # Per organiser, whichever of their tokens and processes the calls come through.
    retry = await limiter_of(request).hit(f"api:{organiser.id}", context.settings.api_rate_limit)
    if retry is not None:
        raise ApiRateLimited(retry)
    request.state.api_organiser = organiser
    return organiser
