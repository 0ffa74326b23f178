"""``POST /api/v1/events/{slug}/registrations``: the same service the HTML form calls.

201 ``{"status": "confirmed" | "waitlisted", "position": n | null}``; 409 with a refusal code;
422 with per-field messages; 429 when rate limited. Never carries a token.

JSON only: a body sent as anything but ``application/json`` gets 415, which also means no
cross-site HTML form can post here (browsers cannot send JSON cross-site without CORS).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from events.registration import service
from events.registration.limits import address_limit, email_limit
from events.registration.schemas import RegistrationInput
from events.web.context import app_context
from events.web.errors import error_response
from events.web.uow import unit_of_work

MAX_BODY = 64 * 1024


async def create_registration(request: Request) -> Response:
    context = app_context(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return error_response(
            request, 415, "unsupported_media_type", "Send the registration as application/json."
        )
    if limited := await address_limit(request):
        return limited
    body = await request.body()
    if len(body) > MAX_BODY:
        return error_response(request, 413, "too_large", "That request is too large.")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return error_response(request, 400, "invalid_json", "The body is not valid JSON.")
    data = RegistrationInput.from_json(payload)
    if limited := await email_limit(request, data.email):
        return limited
    async with unit_of_work(request, write=True) as session:
        outcome = await service.register(
            session,
            context.clock,
            slug=request.path_params["slug"],
            data=data,
            secret=context.settings.secret(),
        )
    outcome.raise_refusal()
    return JSONResponse(
        {"status": outcome.status.value, "position": outcome.position},
        status_code=201,
        headers={"cache-control": "no-store"},
    )


routes: list[BaseRoute] = [
    Route(
        "/events/{slug}/registrations",
        create_registration,
        methods=["POST"],
        name="registrations",
    ),
]
