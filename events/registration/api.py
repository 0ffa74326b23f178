"""``POST /api/v1/events/{slug}/registrations``: the same service the HTML form calls.

201 ``{"status": "confirmed" | "waitlisted", "position": n | null}``; 409 with a refusal code;
422 with per-field messages; 429 when rate limited. Never carries a token.

JSON only: a body sent as anything but ``application/json`` gets 415, which also means no
cross-site HTML form can post here (browsers cannot send JSON cross-site without CORS).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from events.catalog import queries
from events.registration import service
from events.registration.limits import registration_limits
from events.registration.schemas import RegistrationInput
from events.web.context import app_context
from events.web.errors import error_response
from events.web.json_body import json_body, require_json
from events.web.uow import unit_of_work

MAX_BODY = 64 * 1024
AS_JSON = "Send the registration as application/json."


async def create_registration(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]
    # Before the limits: a wrong type or invalid input (422) costs nothing.
    require_json(request, message=AS_JSON)
    data = RegistrationInput.from_json(await json_body(request, max_bytes=MAX_BODY))
    async with unit_of_work(request) as session:
        service.check_input(await queries.event_by_slug(session, slug), data)
    if held := await registration_limits(request, data.email, f"event:{slug}"):
        return error_response(request, 429, "rate_limited", held.message, headers=held.headers)
    async with unit_of_work(request, write=True) as session:
        outcome = await service.register(
            session,
            context.clock,
            slug=slug,
            data=data,
            signer=context.signer,
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
