"""Registration pages: the form, the answer, management and cancelling by secret link, the
personal joining link, and registering for a whole series.

Handlers parse, call one service in one unit of work, render. Refusals and field errors are
re-rendered next to the form here, with the person's input kept, because the form (not a
generic error page) is where they can be put right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from events.catalog import queries
from events.errors import DomainError, InvalidInput
from events.registration import service
from events.registration.errors import RegistrationRefused
from events.registration.limits import address_limit, email_limit
from events.registration.schemas import RegistrationInput
from events.registration.tokens import LinkSet
from events.web.context import app_context
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work

HONEYPOT = "website"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}
LIST_FIELDS = ("access_requirements", "consents")


def _lists(form: FormData) -> dict[str, list[str]]:
    return {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in LIST_FIELDS}


def _values(form: FormData) -> dict[str, Any]:
    """The submitted input, kept to fill the form again (lists for checkbox groups)."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values.update(_lists(form))
    values.pop("csrf_token", None)
    return values


Rerender = Callable[..., Awaitable[HTMLResponse]]


async def _screen(
    request: Request, form: FormData, rerender: Rerender
) -> RegistrationInput | Response:
    """What every registration form goes through before any rule runs: CSRF, the limit per
    client address, the honeypot, parsing (errors shown next to the fields), the limit per
    email. Returns the parsed input, or the response that ends the request here."""
    if limited := await address_limit(request):
        return limited
    if form.get(HONEYPOT):
        # Only automated form fillers see this field; they get a plain page and no place.
        return HTMLResponse(app_context(request).renderer.render("registration/received.html"))
    try:
        data = RegistrationInput.from_form(form, _lists(form))
    except InvalidInput as exc:
        return await rerender(values=_values(form), errors=exc.fields, status_code=422)
    if limited := await email_limit(request, data.email):
        return limited
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
    screened = await _screen(request, form, partial(_form_page, request, slug))
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
    html = context.renderer.render(
        "registration/done.html", event=outcome.event, outcome=outcome, now=context.clock.now()
    )
    return HTMLResponse(html, headers={"cache-control": "no-store"})


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
    async with unit_of_work(request, write=True) as session:
        outcome = await service.cancel(
            session,
            context.clock,
            token=request.path_params["token"],
            signer=context.signer,
        )
    html = context.renderer.render(
        "registration/cancelled.html",
        registration=outcome.registration,
        event=outcome.event,
        already=outcome.already_cancelled,
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
    screened = await _screen(request, form, partial(_series_page, request))
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
    html = context.renderer.render(
        "registration/series_done.html", series=series, items=items, now=context.clock.now()
    )
    return HTMLResponse(html, headers={"cache-control": "no-store"})
