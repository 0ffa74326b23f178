"""Registration pages: the form, the answer, management and cancelling by secret link, the
personal joining link, and registering for a whole series.

Handlers parse, call one service in one unit of work, render. Refusals and field errors are
re-rendered next to the form here, with the person's input kept, because the form (not a
generic error page) is where they can be put right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from events.catalog import queries
from events.catalog.models import Event
from events.errors import DomainError, InvalidInput
from events.registration import service
from events.registration.errors import RegistrationRefused
from events.registration.limits import honeypot_tripped, registration_limits
from events.registration.models import RegistrationStatus
from events.registration.schemas import RegistrationInput
from events.registration.tokens import LinkSet
from events.web import results
from events.web.context import app_context
from events.web.errors import error_response
from events.web.results import see_other
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work
from events.web.urls import path_for

HONEYPOT = "website"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}
LIST_FIELDS = ("access_requirements", "consents")
RESULT_KIND = "registration"
SERIES_RESULT_KIND = "series-registration"
STATUSES = frozenset({RegistrationStatus.confirmed.value, RegistrationStatus.waitlisted.value})


def _lists(form: FormData) -> dict[str, list[str]]:
    return {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in LIST_FIELDS}


def _values(form: FormData) -> dict[str, Any]:
    """The submitted input, kept to fill the form again (lists for checkbox groups)."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values.update(_lists(form))
    values.pop("csrf_token", None)
    return values


Rerender = Callable[..., Awaitable[HTMLResponse]]
Precheck = Callable[[RegistrationInput], Awaitable[None]]


async def _screen(
    request: Request, form: FormData, rerender: Rerender, *, target: str, precheck: Precheck
) -> RegistrationInput | Response:
    """What every registration form goes through before any rule runs (after the CSRF
    guard): the honeypot, parsing and the event's own input rules (errors shown next to the
    fields, counted against nobody), then the rate limits (``limits.py``), whose answer is
    the form again, as typed, saying when to try again. Returns the parsed input, or the
    response that ends the request here."""
    if form.get(HONEYPOT):
        # Only automated form fillers see this field; they get a plain page and no place.
        await honeypot_tripped(request)
        return HTMLResponse(app_context(request).renderer.render("registration/received.html"))
    values = _values(form)
    try:
        data = RegistrationInput.from_form(form, _lists(form))
        await precheck(data)
    except InvalidInput as exc:
        return await rerender(values=values, errors=exc.fields, status_code=422)
    if held := await registration_limits(request, data.email, target):
        page = await rerender(values=values, problem=held.message, status_code=429)
        page.headers.update(held.headers)
        return page
    return data


async def _form_page(
    request: Request,
    slug: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = app_context(request)
    async with unit_of_work(request) as session:
        event = await queries.event_by_slug(session, slug)
    html = context.renderer.render(
        "registration/form.html",
        now=context.clock.now(),
        event=event,
        values=values or {},
        errors=errors or {},
        problem=problem,
    )
    return HTMLResponse(html, status_code=status_code)


async def register_form(request: Request) -> Response:
    return await _form_page(request, request.path_params["slug"])


async def register(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]
    form = await request.form()

    async def precheck(data: RegistrationInput) -> None:
        async with unit_of_work(request) as session:
            service.check_input(await queries.event_by_slug(session, slug), data)

    screened = await _screen(
        request, form, partial(_form_page, request, slug), target=f"event:{slug}", precheck=precheck
    )
    if isinstance(screened, Response):
        return screened
    data, values = screened, _values(form)
    try:
        async with unit_of_work(request, write=True) as session:
            outcome = await service.register(
                session,
                context.clock,
                slug=slug,
                data=data,
                signer=context.signer,
            )
        outcome.raise_refusal()
    except InvalidInput as exc:
        return await _form_page(request, slug, values=values, errors=exc.fields, status_code=422)
    except RegistrationRefused as exc:
        return await _form_page(
            request, slug, values=values, problem=exc.message, status_code=exc.status
        )
    # Post/Redirect/Get (web/results.py). The result page is named by a short-lived signed
    # ticket holding only what the page says (event, status, place in the queue), not by
    # the management link: that link can cancel the place, and an address bar or the
    # history of a shared staffroom computer is no place for it. Nor could it be given
    # here: someone typing an address already registered must be told what a newcomer
    # would be, not handed that registration's link.
    ticket = results.issue(
        context.signer,
        RESULT_KIND,
        [outcome.event.id, outcome.status.value, outcome.position],
        context.clock.now(),
    )
    return see_other(path_for(request, "registration:done", slug=slug, ticket=ticket), PRIVATE)


async def done(request: Request) -> Response:
    """The answer to a registration, reloadable: it reads the ticket, never the form."""
    context = app_context(request)
    ticket = request.path_params["ticket"]
    facts = results.read(context.signer, RESULT_KIND, ticket, context.clock.now())
    async with unit_of_work(request) as session:
        event = await queries.event_by_slug(session, request.path_params["slug"])
    if not _outcome_facts(facts) or facts[0] != event.id:
        return _expired(request)
    outcome = service.Outcome(status=RegistrationStatus(facts[1]), position=facts[2], event=event)
    html = context.renderer.render(
        "registration/done.html", event=event, outcome=outcome, now=context.clock.now()
    )
    return HTMLResponse(html, headers=PRIVATE)


def _outcome_facts(facts: Any) -> TypeGuard[list[Any]]:
    """``[event id, status, position]`` as ``register`` wrote them."""
    return (
        isinstance(facts, list)
        and len(facts) == 3
        and isinstance(facts[0], int)
        and facts[1] in STATUSES
        and (facts[2] is None or isinstance(facts[2], int))
    )


def _expired(request: Request) -> Response:
    return error_response(
        request,
        404,
        "result_expired",
        "This page has expired. The email we sent you says what you booked, with a link "
        "to view or cancel it.",
        headers=PRIVATE,
    )


@secret_link
async def manage(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        registration = await service.registration_by_token(
            session, token=request.path_params["token"], signer=context.signer
        )
        position = await service.place_in_queue(session, registration)
    token = request.path_params["token"]
    # Derived only now that the token is known good: the read-only private feed link.
    calendar_token = LinkSet.from_manage(context.signer, token).calendar
    html = context.renderer.render(
        "registration/manage.html",
        registration=registration,
        event=registration.event,
        position=position,
        token=token,
        calendar_token=calendar_token,
        now=context.clock.now(),
    )
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def cancel_confirm(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        registration = await service.registration_by_token(
            session, token=request.path_params["token"], signer=context.signer
        )
    html = context.renderer.render(
        "registration/cancel.html",
        registration=registration,
        event=registration.event,
        token=request.path_params["token"],
    )
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def cancel(request: Request) -> Response:
    context = app_context(request)
    token = request.path_params["token"]
    async with unit_of_work(request, write=True) as session:
        outcome = await service.cancel(session, context.clock, token=token, signer=context.signer)
    # Post/Redirect/Get to the same secret link the person came by (the page already in
    # their address bar), so a reload asks nothing again.
    query = {"already": "1"} if outcome.already_cancelled else None
    return see_other(path_for(request, "registration:cancelled", query, token=token), PRIVATE)


@secret_link
async def cancelled(request: Request) -> Response:
    context = app_context(request)
    token = request.path_params["token"]
    async with unit_of_work(request) as session:
        registration = await service.registration_by_token(
            session, token=token, signer=context.signer
        )
    if registration.status != RegistrationStatus.cancelled:
        return see_other(path_for(request, "registration:manage", token=token), PRIVATE)
    html = context.renderer.render(
        "registration/cancelled.html",
        registration=registration,
        event=registration.event,
        already=request.query_params.get("already") == "1",
    )
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def join(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        registration = await service.registration_by_join_token(
            session, token=request.path_params["token"], signer=context.signer
        )
    now = context.clock.now()
    decision = service.joining_link(
        registration, registration.event, now, opens_minutes=context.settings.joining_opens_minutes
    )
    if decision.url is not None:
        return RedirectResponse(decision.url, status_code=303, headers=PRIVATE)
    html = context.renderer.render(
        "registration/join.html", event=registration.event, decision=decision, now=now
    )
    return HTMLResponse(html, headers=PRIVATE)


async def _series_page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = app_context(request)
    now = context.clock.now()
    async with unit_of_work(request) as session:
        series = await queries.series_by_slug(session, request.path_params["slug"])
        sessions = await queries.bookable_series_sessions(session, series.id, now=now)
    html = context.renderer.render(
        "registration/series_form.html",
        now=now,
        series=series,
        sessions=sessions,
        members_only=service.series_needs_membership(sessions),
        values=values or {},
        errors=errors or {},
        problem=problem,
    )
    return HTMLResponse(html, status_code=status_code)


async def series_form(request: Request) -> Response:
    return await _series_page(request)


async def register_series(request: Request) -> Response:
    context = app_context(request)
    form = await request.form()
    slug = request.path_params["slug"]

    async def precheck(data: RegistrationInput) -> None:
        now = context.clock.now()
        async with unit_of_work(request) as session:
            series = await queries.series_by_slug(session, slug)
            sessions = await queries.bookable_series_sessions(session, series.id, now=now)
        service.check_series_input(sessions, data)

    screened = await _screen(
        request, form, partial(_series_page, request), target=f"series:{slug}", precheck=precheck
    )
    if isinstance(screened, Response):
        return screened
    data, values = screened, _values(form)
    try:
        async with unit_of_work(request, write=True) as session:
            found = await queries.series_by_slug(session, request.path_params["slug"])
            series, items = await service.register_for_series(
                session,
                context.clock,
                series_id=found.id,
                data=data,
                signer=context.signer,
            )
    except InvalidInput as exc:
        return await _series_page(request, values=values, errors=exc.fields, status_code=422)
    except DomainError as exc:
        return await _series_page(
            request, values=values, problem=exc.message, status_code=exc.status
        )
    facts = [series.id, [_series_item(item) for item in items]]
    ticket = results.issue(context.signer, SERIES_RESULT_KIND, facts, context.clock.now())
    path = path_for(request, "registration:series_done", slug=series.slug, ticket=ticket)
    return see_other(path, PRIVATE)


def _series_item(item: service.SeriesItem) -> list[Any]:
    """One session's line on the series result page: ``[event id, status or None, place in
    the queue, refusal message or None]``."""
    if item.refused is not None:
        return [item.event.id, None, None, item.refused.message]
    assert item.outcome is not None
    return [item.event.id, item.outcome.status.value, item.outcome.position, None]


@dataclass(frozen=True)
class _Refusal:
    message: str


@dataclass(frozen=True)
class _SeriesLine:
    """What ``registration/series_done.html`` reads of a ``service.SeriesItem``."""

    event: Event
    outcome: service.Outcome | None
    refused: _Refusal | None


async def series_done(request: Request) -> Response:
    context = app_context(request)
    facts = results.read(
        context.signer, SERIES_RESULT_KIND, request.path_params["ticket"], context.clock.now()
    )
    async with unit_of_work(request) as session:
        series = await queries.series_by_slug(session, request.path_params["slug"])
        sessions = {event.id: event for event in await queries.series_sessions(session, series)}
    if not (isinstance(facts, list) and len(facts) == 2 and facts[0] == series.id):
        return _expired(request)
    lines: list[_SeriesLine] = []
    for event_id, status, position, refused in facts[1]:
        if (event := sessions.get(event_id)) is None:
            continue  # no longer public: nothing to say about it
        if refused is not None:
            lines.append(_SeriesLine(event=event, outcome=None, refused=_Refusal(refused)))
            continue
        outcome = service.Outcome(status=RegistrationStatus(status), position=position, event=event)
        lines.append(_SeriesLine(event=event, outcome=outcome, refused=None))
    html = context.renderer.render(
        "registration/series_done.html", series=series, items=lines, now=context.clock.now()
    )
    return HTMLResponse(html, headers=PRIVATE)
