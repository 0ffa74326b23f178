"""Console pages for events and the catalogue: list, create, edit, preview, publish,
unpublish, cancel, duplicate, sharing, the audit log, and topics, series, campaigns and
partner organisations.

Every event is fetched through ``organiser.console.managed_event_details``: another
organiser's event answers 404 on every page and action, whatever slug is tried. Every POST
verifies CSRF before anything else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from events import lifecycle
from events.audit.service import Actor
from events.catalog import queries
from events.catalog.models import EventFormat, EventKind, EventStatus
from events.errors import Conflict, Forbidden, InvalidInput, NotFound
from events.kit.ids import parse_id, parse_number
from events.organiser import audit_text, console, groupings
from events.organiser import sharing as shares
from events.organiser.event_forms import (
    CATALOGUE_FIELDS,
    CATALOGUE_NOUNS,
    TIMEZONES,
    catalogue_values,
    event_values,
    form_errors,
    new_event_values,
    parse_catalogue_form,
    parse_duplicate_form,
    parse_event_form,
    reminder_choices,
)
from events.organiser.models import Organiser
from events.organiser.web import console_page, render
from events.web.context import app_context
from events.web.uow import unit_of_work
from events.web.urls import path_for

PER_PAGE = 25
WHEN_CHOICES = {"upcoming": "Upcoming", "past": "Past", "all": "All dates"}


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return parse_number(raw) or 1


def _now(request: Request) -> dt.datetime:
    return app_context(request).clock.now()


def _event_url(request: Request, slug: str, page: str = "") -> str:
    return path_for(request, "organiser:event" + (f"_{page}" if page else ""), slug=slug)


# Events list ------------------------------------------------------------------------------


@console_page
async def events_list(request: Request, organiser: Organiser) -> Response:
    params = request.query_params
    status: EventStatus | None = None
    try:
        status = EventStatus(params["status"]) if params.get("status") else None
    except ValueError:
        status = None
    when = params.get("when", "upcoming")
    if when not in WHEN_CHOICES:
        when = "upcoming"
    q = " ".join("".join(ch for ch in params.get("q", "") if ch.isprintable()).split())[:200]
    async with unit_of_work(request) as session:
        listing = await console.console_events(
            session,
            organiser,
            now=_now(request),
            status=status,
            q=q,
            when=when,
            page=_page_number(request),
            per_page=PER_PAGE,
        )
    filters = {"status": status.value if status else "", "when": when, "q": q}
    return render(
        request,
        "organiser/events/list.html",
        console_nav="events",
        listing=listing,
        filters=filters,
        when_choices=WHEN_CHOICES,
        statuses=[s.value for s in EventStatus],
    )


# Create and edit ---------------------------------------------------------------------------


async def _form_page(
    request: Request,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    event: Any = None,
    confirmed: int = 0,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    async with unit_of_work(request) as session:
        choices = await queries.form_choices(session)
    return render(
        request,
        "organiser/events/form.html",
        status_code=status_code,
        console_nav="events",
        values=values,
        errors=errors,
        event=event,
        confirmed=confirmed,
        problem=problem,
        choices=choices,
        kinds={k.value: k.label for k in EventKind},
        formats={f.value: f.label for f in EventFormat},
        timezones=sorted({*TIMEZONES, values.get("timezone") or "Europe/London"}),
        reminders=reminder_choices(values),
    )


@console_page
async def new_event(request: Request, organiser: Organiser) -> Response:
    if request.method == "GET":
        values = new_event_values(organiser_name=organiser.name, organiser_email=organiser.email)
        return await _form_page(request, values=values, errors={})
    form = await request.form()
    parsed = parse_event_form(form, owner_id=organiser.id)
    if parsed.data is None:
        return await _form_page(
            request, values=parsed.values, errors=parsed.errors, status_code=422
        )
    context = app_context(request)
    try:
        async with unit_of_work(request, write=True) as session:
            event = await lifecycle.create_event(
                session, context.clock, parsed.data, actor=Actor.of(organiser)
            )
            slug = event.slug
    except InvalidInput as invalid:
        return await _form_page(
            request, values=parsed.values, errors=form_errors(invalid.fields), status_code=422
        )
    return RedirectResponse(_event_url(request, slug) + "?done=created", status_code=303)


@console_page
async def edit_event(request: Request, organiser: Organiser) -> Response:
    slug = request.path_params["slug"]
    if request.method == "GET":
        async with unit_of_work(request) as session:
            event = await console.managed_event_details(session, organiser, slug)
            counts = await console.registration_counts(session, event.id)
        return await _form_page(
            request,
            values=event_values(event),
            errors={},
            event=event,
            confirmed=counts["confirmed"],
        )
    form = await request.form()
    parsed = parse_event_form(form)
    context = app_context(request)
    problem = ""
    try:
        async with unit_of_work(request, write=True) as session:
            event = await console.managed_event_details(session, organiser, slug)
            if parsed.data is not None:
                change = await lifecycle.update_event(
                    session,
                    context.clock,
                    event=event,
                    data=parsed.data,
                    actor=Actor.of(organiser),
                    signer=context.signer,
                )
                new_slug = change.event.slug
                emailed = change.notified + change.waitlist_notified
    except InvalidInput as invalid:
        parsed.errors.update(form_errors(invalid.fields))
    except Conflict as refused:
        problem = refused.message
    if parsed.errors or problem:
        async with unit_of_work(request) as session:
            event = await console.managed_event_details(session, organiser, slug)
            counts = await console.registration_counts(session, event.id)
        return await _form_page(
            request,
            values=parsed.values,
            errors=parsed.errors,
            event=event,
            confirmed=counts["confirmed"],
            problem=problem,
            status_code=409 if problem else 422,
        )
    return RedirectResponse(
        _event_url(request, new_slug) + f"?done=saved&emailed={emailed}", status_code=303
    )


# Overview, preview, audit -----------------------------------------------------------------


async def _overview(
    request: Request, organiser: Organiser, slug: str, *, problem: str = "", status_code: int = 200
) -> Response:
    async with unit_of_work(request) as session:
        event = await console.managed_event_details(session, organiser, slug)
        counts = await console.registration_counts(session, event.id)
    done = request.query_params.get("done", "")
    emailed = request.query_params.get("emailed", "")
    return render(
        request,
        "organiser/events/overview.html",
        status_code=status_code,
        console_nav="events",
        event=event,
        counts=counts,
        now=_now(request),
        done=done,
        emailed=int(emailed) if emailed.isdigit() and len(emailed) < 7 else None,
        problem=problem,
        can_share=organiser.is_admin or event.owner_id == organiser.id,
    )


@console_page
async def overview(request: Request, organiser: Organiser) -> Response:
    return await _overview(request, organiser, request.path_params["slug"])


@console_page
async def preview(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        event = await console.managed_event_details(session, organiser, request.path_params["slug"])
    return render(request, "organiser/events/preview.html", event=event, now=_now(request))


@console_page
async def audit_log(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        event = await console.managed_event_details(session, organiser, request.path_params["slug"])
        log = await console.event_audit(session, event.id, page=_page_number(request))
    lines = [audit_text.describe(entry, event.timezone) for entry in log.items]
    return render(
        request,
        "organiser/events/audit.html",
        console_nav="events",
        event=event,
        log=log,
        lines=lines,
    )


# Status changes ---------------------------------------------------------------------------


@console_page
async def publish(request: Request, organiser: Organiser) -> Response:
    return await _status_change(request, organiser, "publish")


@console_page
async def unpublish(request: Request, organiser: Organiser) -> Response:
    return await _status_change(request, organiser, "unpublish")


async def _status_change(request: Request, organiser: Organiser, action: str) -> Response:
    slug = request.path_params["slug"]
    clock = app_context(request).clock
    try:
        async with unit_of_work(request, write=True) as session:
            event = await console.managed_event_details(session, organiser, slug)
            if action == "publish":
                await lifecycle.publish_event(session, clock, event, actor=Actor.of(organiser))
            else:
                await lifecycle.unpublish_event(session, clock, event, actor=Actor.of(organiser))
    except Conflict as refused:
        return await _overview(request, organiser, slug, problem=refused.message, status_code=409)
    done = "published" if action == "publish" else "unpublished"
    return RedirectResponse(_event_url(request, slug) + f"?done={done}", status_code=303)


@console_page
async def cancel(request: Request, organiser: Organiser) -> Response:
    slug = request.path_params["slug"]
    if request.method == "GET":
        async with unit_of_work(request) as session:
            event = await console.managed_event_details(session, organiser, slug)
            counts = await console.registration_counts(session, event.id)
        return render(
            request,
            "organiser/events/cancel.html",
            console_nav="events",
            event=event,
            counts=counts,
        )
    async with unit_of_work(request, write=True) as session:
        event = await console.managed_event_details(session, organiser, slug)
        await lifecycle.cancel_event(
            session, app_context(request).clock, event, actor=Actor.of(organiser)
        )
    return RedirectResponse(_event_url(request, slug) + "?done=cancelled", status_code=303)


@console_page
async def duplicate(request: Request, organiser: Organiser) -> Response:
    slug = request.path_params["slug"]
    values: dict[str, str] = {"title": "", "starts_on": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        parsed = parse_duplicate_form(form)
        values, errors = parsed.values, parsed.errors
        if not errors:
            try:
                async with unit_of_work(request, write=True) as session:
                    event = await console.managed_event_details(session, organiser, slug)
                    copy = await lifecycle.duplicate_event(
                        session,
                        app_context(request).clock,
                        event=event,
                        actor=Actor.of(organiser),
                        starts_on=parsed.starts_on,
                        title=parsed.title,
                    )
                    copy_slug = copy.slug
            except InvalidInput as invalid:
                errors = {"starts_on": next(iter(invalid.fields.values()), invalid.message)}
            else:
                return RedirectResponse(_event_url(request, copy_slug) + "?done=duplicated", 303)
    async with unit_of_work(request) as session:
        event = await console.managed_event_details(session, organiser, slug)
    return render(
        request,
        "organiser/events/duplicate.html",
        status_code=422 if errors else 200,
        console_nav="events",
        event=event,
        values=values,
        errors=errors,
    )


# Sharing ----------------------------------------------------------------------------------


@console_page
async def sharing(request: Request, organiser: Organiser) -> Response:
    slug = request.path_params["slug"]
    values = {"email": ""}
    errors: dict[str, str] = {}
    problem = ""
    if request.method == "POST":
        form = await request.form()
        raw_email = form.get("email")
        values["email"] = raw_email.strip()[:320] if isinstance(raw_email, str) else ""
        raw_id = form.get("organiser_id")
        clock = app_context(request).clock
        try:
            async with unit_of_work(request, write=True) as session:
                event = await console.managed_event_details(session, organiser, slug)
                if (organiser_id := parse_id(raw_id)) is not None:
                    await shares.unshare_event(
                        session, clock, event=event, organiser_id=organiser_id, actor=organiser
                    )
                    done = "unshared"
                else:
                    await shares.share_event(
                        session, clock, event=event, with_email=values["email"], actor=organiser
                    )
                    done = "shared"
        except InvalidInput as invalid:
            errors = dict(invalid.fields)
        except Forbidden as refused:
            problem = refused.message
        else:
            return RedirectResponse(_event_url(request, slug, "sharing") + f"?done={done}", 303)
    async with unit_of_work(request) as session:
        event = await console.managed_event_details(session, organiser, slug)
        shared = await shares.shared_with(session, event)
        owner = await shares.event_owner(session, event)
    return render(
        request,
        "organiser/events/sharing.html",
        status_code=422 if errors else (403 if problem else 200),
        console_nav="events",
        event=event,
        shared=shared,
        owner=owner,
        can_share=organiser.is_admin or event.owner_id == organiser.id,
        values=values,
        errors=errors,
        problem=problem,
        done=request.query_params.get("done", ""),
    )


# Catalogue --------------------------------------------------------------------------------


@console_page
async def catalogue(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        topics = await queries.topics(session)
        series = await queries.all_series(session)
        campaigns = await queries.campaigns(session)
        partners = await groupings.partners(session)
    return render(
        request,
        "organiser/catalogue/index.html",
        console_nav="catalogue",
        topics=topics,
        series=series,
        campaigns=campaigns,
        partners=partners,
        done=request.query_params.get("done", ""),
    )


async def _catalogue_row(session: AsyncSession, kind: str, slug: str) -> Any:
    if kind == "topics":
        return await queries.topic_by_slug(session, slug)
    if kind == "series":
        return await queries.series_by_slug(session, slug)
    if kind == "campaigns":
        return await queries.campaign_by_slug(session, slug)
    return await groupings.partner_by_slug(session, slug)


async def _save_catalogue(
    session: AsyncSession,
    request: Request,
    organiser: Organiser,
    kind: str,
    row: Any,
    data: dict[str, Any],
) -> Any:
    clock = app_context(request).clock
    if kind == "series":
        data = {**data, "partners": await groupings.partners_by_slug(session, data["partners"])}
    services: dict[str, tuple[Any, Any, str]] = {
        "topics": (groupings.create_topic, groupings.update_topic, "topic"),
        "series": (groupings.create_series, groupings.update_series, "series"),
        "campaigns": (groupings.create_campaign, groupings.update_campaign, "campaign"),
        "partners": (groupings.create_partner, groupings.update_partner, "partner"),
    }
    create, update, noun = services[kind]
    if row is None:
        return await create(session, clock, by=organiser, **data)
    return await update(session, clock, by=organiser, **{noun: row}, **data)


async def _catalogue_form(
    request: Request,
    organiser: Organiser,
    kind: str,
    *,
    row: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    problem: str = "",
    status_code: int = 200,
) -> Response:
    partner_choices: dict[str, str] = {}
    if kind == "series":
        async with unit_of_work(request) as session:
            partner_choices = {p.slug: p.name for p in await groupings.partners(session)}
    return render(
        request,
        "organiser/catalogue/form.html",
        status_code=status_code,
        console_nav="catalogue",
        kind=kind,
        noun=CATALOGUE_NOUNS[kind],
        fields=CATALOGUE_FIELDS[kind],
        row=row,
        values=values,
        errors=errors,
        problem=problem,
        partner_choices=partner_choices,
        admin_only=kind == "topics" and not organiser.is_admin,
    )


@console_page
async def catalogue_item(request: Request, organiser: Organiser) -> Response:
    kind = request.path_params["kind"]
    slug = request.path_params.get("slug")
    if kind not in CATALOGUE_FIELDS:
        raise NotFound()
    row = None
    values: dict[str, Any] = {}
    if slug is not None:
        async with unit_of_work(request) as session:
            row = await _catalogue_row(session, kind, slug)
            values = catalogue_values(kind, row)
    if request.method == "GET":
        return await _catalogue_form(request, organiser, kind, row=row, values=values, errors={})
    form = await request.form()
    parsed = parse_catalogue_form(kind, form)
    errors = dict(parsed.errors)
    problem = ""
    if not errors:
        try:
            async with unit_of_work(request, write=True) as session:
                current = await _catalogue_row(session, kind, slug) if slug else None
                await _save_catalogue(session, request, organiser, kind, current, parsed.data)
        except InvalidInput as invalid:
            errors = dict(invalid.fields)
        except Forbidden as refused:
            problem = refused.message
        else:
            return RedirectResponse(
                path_for(request, "organiser:catalogue", query={"done": kind}), status_code=303
            )
    return await _catalogue_form(
        request,
        organiser,
        kind,
        row=row,
        values=parsed.values,
        errors=errors,
        problem=problem,
        status_code=403 if problem else 422,
    )


routes: list[BaseRoute] = [
    Route("/organiser/events", events_list, name="organiser:events"),
    Route("/organiser/events/new", new_event, methods=["GET", "POST"], name="organiser:event_new"),
    Route("/organiser/events/{slug}", overview, name="organiser:event"),
    Route(
        "/organiser/events/{slug}/edit",
        edit_event,
        methods=["GET", "POST"],
        name="organiser:event_edit",
    ),
    Route("/organiser/events/{slug}/preview", preview, name="organiser:event_preview"),
    Route(
        "/organiser/events/{slug}/publish",
        publish,
        methods=["POST"],
        name="organiser:event_publish",
    ),
    Route(
        "/organiser/events/{slug}/unpublish",
        unpublish,
        methods=["POST"],
        name="organiser:event_unpublish",
    ),
    Route(
        "/organiser/events/{slug}/cancel",
        cancel,
        methods=["GET", "POST"],
        name="organiser:event_cancel",
    ),
    Route(
        "/organiser/events/{slug}/duplicate",
        duplicate,
        methods=["GET", "POST"],
        name="organiser:event_duplicate",
    ),
    Route(
        "/organiser/events/{slug}/sharing",
        sharing,
        methods=["GET", "POST"],
        name="organiser:event_sharing",
    ),
    Route("/organiser/events/{slug}/audit", audit_log, name="organiser:event_audit"),
    Route("/organiser/catalogue", catalogue, name="organiser:catalogue"),
    Route(
        "/organiser/catalogue/{kind}/new",
        catalogue_item,
        methods=["GET", "POST"],
        name="organiser:catalogue_new",
    ),
    Route(
        "/organiser/catalogue/{kind}/{slug}",
        catalogue_item,
        methods=["GET", "POST"],
        name="organiser:catalogue_edit",
    ),
]
