"""The organiser write API under /api/v1/organiser: events, registrations and attendance,
through the same services, permissions and audit log as the console.

Every call is authenticated by an organiser API token (``Authorization: Bearer …``,
``organiser.bearer.api_organiser``), never by the console's session cookie: a request that
carries only cookies is 401, which is also why these endpoints need no CSRF token (a
browser never adds a bearer token by itself). An event the token's organiser does not
manage, and a registration of such an event, answer 404 exactly as a missing one does.
Answers are never cached (``Cache-Control: no-store``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from events import lifecycle
from events.api import schemas
from events.audit.service import Actor
from events.catalog.fields import event_values, input_values
from events.catalog.lifecycle import event_with_details
from events.errors import InvalidInput
from events.kit.ids import parse_number
from events.organiser import attendance
from events.organiser.bearer import ApiLoginRequired, api_organiser
from events.organiser.console import managed_event_details
from events.organiser.models import Organiser
from events.organiser.permissions import managed_event
from events.registration import service as registrations
from events.registration.models import RegistrationStatus
from events.registration.schemas import RegistrationInput
from events.web.context import app_context
from events.web.errors import error_response
from events.web.json_body import json_body
from events.web.uow import unit_of_work

MAX_BODY = 256 * 1024
NO_STORE = {"cache-control": "no-store"}
PER_PAGE = 50
MAX_PER_PAGE = 500
Handler = Callable[[Request, Organiser], Awaitable[Response]]


def api_call(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate first: nothing is parsed or looked up for a request without a valid
    token."""

    async def endpoint(request: Request) -> Response:
        try:
            organiser = await api_organiser(request)
        except ApiLoginRequired as refused:
            # RFC 6750 3: a 401 names the scheme it wants.
            return error_response(
                request,
                refused.status,
                refused.code,
                refused.message,
                headers={"www-authenticate": 'Bearer realm="events"', **NO_STORE},
            )
        return await handler(request, organiser)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=NO_STORE)


async def _payload(request: Request) -> object:
    return await json_body(request, max_bytes=MAX_BODY)


def _base_url(request: Request) -> str:
    return app_context(request).settings.base_url


@api_call
async def create_event(request: Request, organiser: Organiser) -> Response:
    data = schemas.read_input(schemas.EventCreate, await _payload(request))
    values = data.model_dump(exclude_unset=True)
    publish = bool(values.pop("publish", False))
    values.setdefault("organiser_name", organiser.name)
    values.setdefault("organiser_email", organiser.email)
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        created = await lifecycle.create_event(
            session,
            context.clock,
            input_values(values, owner_id=organiser.id),
            publish=publish,
            actor=Actor.of(organiser, via_api=True),
        )
        event = await event_with_details(session, created.id)
        answer = schemas.managed_event(event, now=context.clock.now(), base_url=_base_url(request))
    return _json(schemas.to_json(answer), 201)


@api_call
async def get_event(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        event = await managed_event_details(session, organiser, request.path_params["slug"])
        answer = schemas.managed_event(event, now=context.clock.now(), base_url=_base_url(request))
    return _json(schemas.to_json(answer))


@api_call
async def update_event(request: Request, organiser: Organiser) -> Response:
    changes = schemas.read_input(schemas.EventChanges, await _payload(request))
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        event = await managed_event_details(session, organiser, request.path_params["slug"])
        # Slug only when the caller changes it (None keeps the current one).
        values = {**event_values(event), "slug": None}
        values.update(changes.model_dump(exclude_unset=True))
        change = await lifecycle.update_event(
            session,
            context.clock,
            event=event,
            data=input_values(values, owner_id=event.owner_id),
            actor=Actor.of(organiser, via_api=True),
            signer=context.signer,
        )
        event = await event_with_details(session, change.event.id)
        answer = schemas.managed_event(event, now=context.clock.now(), base_url=_base_url(request))
    return _json(schemas.to_json(answer))


def _listing(request: Request) -> tuple[attendance.ListingFilters, int]:
    """The registrations list's filters; unlike the console's page, a value that cannot be
    used is a 422 naming it (an API client would rather know)."""
    query = request.query_params
    errors: dict[str, str] = {}
    statuses = {s.value for s in RegistrationStatus}
    if "status" in query and query["status"] not in statuses:
        errors["status"] = "Use one of: " + ", ".join(sorted(statuses)) + "."
    if "attended" in query and query["attended"] not in {"yes", "no"}:
        errors["attended"] = "Use yes or no."
    page = query.get("page", "1")
    if not (parse_number(page) or 0) >= 1:
        errors["page"] = "Use a page number from 1."
    if query.get("sort", "date") not in attendance.SORTS:
        errors["sort"] = "Use one of: " + ", ".join(attendance.SORTS) + "."
    per_page = query.get("per_page", str(PER_PAGE))
    if not 1 <= (parse_number(per_page) or 0) <= MAX_PER_PAGE:
        errors["per_page"] = f"Use a number from 1 to {MAX_PER_PAGE}."
    if len(query.get("q", "")) > 200:
        errors["q"] = "Use at most 200 characters."
    if errors:
        raise InvalidInput(errors, code="invalid_filter")
    return attendance.ListingFilters.parse(dict(query)), int(per_page)


@api_call
async def list_registrations(request: Request, organiser: Organiser) -> Response:
    filters, per_page = _listing(request)
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=request.path_params["slug"])
        page = await attendance.registrations_page(session, event, filters, per_page=per_page)
        zone = event.timezone
    url = _base_url(request) + request.url.path

    def link(number: int) -> str:
        extra = {} if per_page == PER_PAGE else {"per_page": per_page}
        return f"{url}?{filters.query_string(page=number, **extra)}"

    answer = schemas.ManagedRegistrationList(
        items=[schemas.managed_registration(r, zone) for r in page.items],
        total=page.total,
        page=page.page,
        pages=page.pages,
        next=link(page.page + 1) if page.has_next else None,
        previous=link(page.page - 1) if page.has_prev else None,
    )
    return _json(schemas.to_json(answer))


@api_call
async def add_registration(request: Request, organiser: Organiser) -> Response:
    payload = await _payload(request)
    status = payload.get("status", "auto") if isinstance(payload, dict) else "auto"
    if status not in ("auto", "confirmed", "waitlisted"):
        raise InvalidInput({"status": "Use auto, confirmed or waitlisted."})
    data = RegistrationInput.from_json(payload)
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        event = await managed_event(session, organiser, slug=request.path_params["slug"])
        registration, new = await registrations.add_by_hand(
            session,
            context.clock,
            event=event,
            data=data,
            actor=Actor.of(organiser, via_api=True),
            signer=context.signer,
            status=status,
        )
        answer = schemas.managed_registration(registration, event.timezone)
    return _json(schemas.to_json(answer), 201 if new else 200)


def _registration_id(request: Request) -> int:
    value: int = request.path_params["registration_id"]
    return value


@api_call
async def cancel_registration(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        event = await managed_event(session, organiser, slug=request.path_params["slug"])
        registration = await registrations.cancel_by_organiser(
            session,
            context.clock,
            event=event,
            registration_id=_registration_id(request),
            actor=Actor.of(organiser, via_api=True),
            signer=context.signer,
        )
        answer = schemas.managed_registration(registration, event.timezone)
    return _json(schemas.to_json(answer))


@api_call
async def mark_attendance(request: Request, organiser: Organiser) -> Response:
    data = schemas.read_input(schemas.AttendanceChange, await _payload(request))
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        event = await managed_event(session, organiser, slug=request.path_params["slug"])
        changed = await attendance.set_attended(
            session,
            context.clock,
            event=event,
            registration_ids=data.registration_ids,
            attended=data.attended,
            actor=Actor.of(organiser, via_api=True),
        )
    return _json(schemas.to_json(schemas.AttendanceResult(changed=changed)))
