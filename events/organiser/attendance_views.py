"""Console pages for one event's people: registrations (counts, access needs, the list,
bulk attendance, per-person actions with a confirmation step), adding someone by hand,
importing an attendance report, exports, messaging, the event's mail and the sign-in sheet.

Every page and action first finds the event through ``permissions.managed_event``: another
organiser's event, or a registration id from another event, is 404 whatever is tried.
Handlers parse, call one service in one unit of work, render.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from events.audit.service import Actor
from events.errors import InvalidInput, NotFound
from events.kit.ids import parse_id, parse_number
from events.organiser import attendance, exports
from events.organiser.errors import AttendanceRefused
from events.organiser.models import Organiser
from events.organiser.permissions import managed_event
from events.organiser.web import console_page, render
from events.registration import service as registration_service
from events.registration.errors import RegistrationMissing, RegistrationRefused
from events.registration.notices import broadcast
from events.registration.schemas import RegistrationInput
from events.web.context import app_context
from events.web.ids import id_param
from events.web.uow import unit_of_work
from events.web.urls import path_for

BASE = "/organiser/events/{slug}"
ACTIONS = {
    "move": "Move to the waiting list",
    "confirm": "Give a place from the waiting list",
    "cancel": "Cancel this registration",
}
NOTICES = {
    "added": "The registration has been added and the person emailed.",
    "existing": "That email address is already registered for this event: "
    "no second place was given.",
    "marked": "Attendance updated for {n} registration(s).",
    "move": "Moved to the waiting list and emailed. A freed place went to the first person "
    "waiting, if anyone was.",
    "confirm": "Given a place and emailed.",
    "cancel": "Cancelled and emailed. A freed place went to the first person waiting, if "
    "anyone was.",
    "sent": "Your message has been queued for {n} people.",
}
SUBJECT_MAX = 200
BODY_MAX = 10_000


def _slug(request: Request) -> str:
    slug: str = request.path_params["slug"]
    return slug


def _notice(request: Request) -> str:
    template = NOTICES.get(request.query_params.get("done", ""), "")
    count = request.query_params.get("n", "")
    return template.format(n=parse_number(count) or 0)


def _back(request: Request, slug: str, done: str, n: int | None = None, page: str = "") -> Response:
    query: dict[str, object] = {"done": done}
    if n is not None:
        query["n"] = n
    target = path_for(request, f"organiser:{page or 'registrations'}", query=query, slug=slug)
    return RedirectResponse(target, status_code=303)


# The registrations page ------------------------------------------------------------------


async def _registrations_page(
    request: Request,
    organiser: Organiser,
    filters: attendance.ListingFilters,
    *,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        counts = await attendance.counts(session, event)
        needs = await attendance.access_summary(session, event)
        page = await attendance.registrations_page(session, event, filters)
    return render(
        request,
        "organiser/attendance/registrations.html",
        status_code=status_code,
        console_nav="events",
        event=event,
        counts=counts,
        needs=needs,
        page=page,
        filters=filters,
        notice="" if problem else _notice(request),
        problem=problem,
        attendance_open=attendance.attendance_open(event, context.clock.now()),
    )


@console_page
async def registrations(request: Request, organiser: Organiser) -> Response:
    filters = attendance.ListingFilters.parse(dict(request.query_params))
    return await _registrations_page(request, organiser, filters)


def _ids(form: FormData) -> list[int]:
    return [i for i in map(parse_id, form.getlist("ids")) if i is not None][:1000]


@console_page
async def mark_attended(request: Request, organiser: Organiser) -> Response:
    form = await request.form()
    one = form.get("one")
    if isinstance(one, str) and ":" in one:
        # A row's own button: "<id>:yes" or "<id>:no".
        id_text, _, flag = one.partition(":")
        ids = [i] if (i := parse_id(id_text)) is not None else []
        attended = flag == "yes"
    else:
        ids, attended = _ids(form), form.get("attended") == "yes"
    if not ids:
        raise InvalidInput({"ids": "Select at least one person first."})
    context = app_context(request)
    try:
        async with unit_of_work(request, write=True) as session:
            event = await managed_event(session, organiser, slug=_slug(request))
            changed = await attendance.set_attended(
                session,
                context.clock,
                event=event,
                registration_ids=ids,
                attended=attended,
                actor=Actor.of(organiser),
            )
    except AttendanceRefused as refused:
        # Nothing changed: the list again, saying why.
        filters = attendance.ListingFilters()
        return await _registrations_page(
            request, organiser, filters, problem=refused.message, status_code=refused.status
        )
    return _back(request, event.slug, "marked", changed)


# Per-person actions, each with a confirmation step ----------------------------------------


def _action(request: Request) -> str:
    action: str = request.path_params["action"]
    if action not in ACTIONS:
        raise NotFound()
    return action


@console_page
async def action_confirm(request: Request, organiser: Organiser) -> Response:
    action = _action(request)
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        registration = await attendance.registration_in(
            session, event, request.path_params["registration_id"]
        )
    if registration is None:
        raise RegistrationMissing()
    return render(
        request,
        "organiser/attendance/action.html",
        console_nav="events",
        event=event,
        registration=registration,
        action=action,
        title=ACTIONS[action],
    )


@console_page
async def action_do(request: Request, organiser: Organiser) -> Response:
    action = _action(request)
    context = app_context(request)
    operation = {
        "move": registration_service.move_to_waiting_list,
        "confirm": registration_service.confirm_from_waiting_list,
        "cancel": registration_service.cancel_by_organiser,
    }[action]
    async with unit_of_work(request, write=True) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        await operation(
            session,
            context.clock,
            event=event,
            registration_id=request.path_params["registration_id"],
            actor=Actor.of(organiser),
            signer=context.signer,
        )
    return _back(request, event.slug, action)


# Adding someone by hand -------------------------------------------------------------------

LIST_FIELDS = ("access_requirements", "consents")


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for name in LIST_FIELDS:
        values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
    values.pop("csrf_token", None)
    return values


async def _add_page(
    request: Request,
    organiser: Organiser,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
    return render(
        request,
        "organiser/attendance/add.html",
        status_code=status_code,
        console_nav="events",
        event=event,
        values=values or {"status": "auto", "consents": ["privacy"]},
        errors=errors or {},
        problem=problem,
    )


@console_page
async def add_form(request: Request, organiser: Organiser) -> Response:
    return await _add_page(request, organiser)


@console_page
async def add(request: Request, organiser: Organiser) -> Response:
    form = await request.form()
    values = _form_values(form)
    status = values.get("status", "auto")
    try:
        if status not in ("auto", "confirmed", "waitlisted"):
            raise InvalidInput({"status": "Choose where to put this person."})
        data = RegistrationInput.from_form(form, {name: values[name] for name in LIST_FIELDS})
        context = app_context(request)
        async with unit_of_work(request, write=True) as session:
            event = await managed_event(session, organiser, slug=_slug(request))
            _, created = await registration_service.add_by_hand(
                session,
                context.clock,
                event=event,
                data=data,
                actor=Actor.of(organiser),
                signer=context.signer,
                status=status,
            )
    except InvalidInput as exc:
        return await _add_page(
            request, organiser, values=values, errors=exc.fields, status_code=422
        )
    except RegistrationRefused as exc:
        return await _add_page(
            request, organiser, values=values, problem=exc.message, status_code=exc.status
        )
    return _back(request, event.slug, "added" if created else "existing")


# Importing an attendance report -----------------------------------------------------------


@console_page
async def import_form(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
    return render(
        request, "organiser/attendance/import.html", console_nav="events", event=event, errors={}
    )


@console_page
async def import_report(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    # The form is closed (its spooled upload deleted) as soon as the bytes are read.
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        data: bytes | None = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(attendance.IMPORT_LIMIT + 1)
    try:
        if data is None:
            raise InvalidInput({"file": "Choose the attendance report to import."})
        async with unit_of_work(request, write=True) as session:
            event = await managed_event(session, organiser, slug=_slug(request))
            report = await attendance.import_attendance(
                session, context.clock, event=event, csv_bytes=data, actor=Actor.of(organiser)
            )
    except (InvalidInput, AttendanceRefused) as exc:
        async with unit_of_work(request) as session:
            event = await managed_event(session, organiser, slug=_slug(request))
        return render(
            request,
            "organiser/attendance/import.html",
            status_code=exc.status,
            console_nav="events",
            event=event,
            errors=exc.fields if isinstance(exc, InvalidInput) else {"file": exc.message},
        )
    return render(
        request,
        "organiser/attendance/import_report.html",
        console_nav="events",
        event=event,
        report=report,
    )


# Exports ----------------------------------------------------------------------------------


async def _export(request: Request, organiser: Organiser, kind: str) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
    if kind == "csv":
        body = exports.csv_stream(context.database.reader, event)
        media_type = "text/csv; charset=utf-8"
    else:
        body = exports.xlsx_stream(context.database.reader, event)
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{exports.filename(event, kind)}"',
            "cache-control": "no-store",
        },
    )


@console_page
async def export_csv(request: Request, organiser: Organiser) -> Response:
    return await _export(request, organiser, "csv")


@console_page
async def export_xlsx(request: Request, organiser: Organiser) -> Response:
    return await _export(request, organiser, "xlsx")


# Messaging --------------------------------------------------------------------------------


def _message_input(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    values = {
        "subject": " ".join(str(form.get("subject", "")).split()),
        "body": str(form.get("body", "")).replace("\r\n", "\n").strip(),
        "audience": str(form.get("audience", "confirmed")),
    }
    errors: dict[str, str] = {}
    if not values["subject"]:
        errors["subject"] = "Enter a subject."
    elif len(values["subject"]) > SUBJECT_MAX:
        errors["subject"] = f"The subject must be {SUBJECT_MAX} characters or fewer."
    if not values["body"]:
        errors["body"] = "Enter your message."
    elif len(values["body"]) > BODY_MAX:
        errors["body"] = f"The message must be {BODY_MAX:,} characters or fewer."
    if values["audience"] not in ("confirmed", "waitlisted"):
        errors["audience"] = "Choose who receives the message."
        values["audience"] = "confirmed"
    return values, errors


@console_page
async def message_form(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        sizes = {a: await attendance.audience_size(session, event, a) for a in AUDIENCES}
    return render(
        request,
        "organiser/attendance/message.html",
        console_nav="events",
        event=event,
        values={"audience": "confirmed"},
        errors={},
        sizes=sizes,
        preview=False,
    )


AUDIENCES = ("confirmed", "waitlisted")


@console_page
async def message_send(request: Request, organiser: Organiser) -> Response:
    form = await request.form()
    values, errors = _message_input(form)
    context = app_context(request)
    if errors or form.get("step") != "send":
        # Not sent yet: show the errors, or the preview with how many it will reach.
        async with unit_of_work(request) as session:
            event = await managed_event(session, organiser, slug=_slug(request))
            sizes = {a: await attendance.audience_size(session, event, a) for a in AUDIENCES}
        return render(
            request,
            "organiser/attendance/message.html",
            status_code=422 if errors else 200,
            console_nav="events",
            event=event,
            values=values,
            errors=errors,
            sizes=sizes,
            preview=not errors,
        )
    async with unit_of_work(request, write=True) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        sent = await broadcast(
            session,
            context.clock,
            event=event,
            subject=values["subject"],
            body=values["body"],
            audience="waitlisted" if values["audience"] == "waitlisted" else "confirmed",
            sender_name=organiser.name or organiser.email,
            sender_email=organiser.email,
            signer=context.signer,
        )
    return _back(request, event.slug, "sent", sent, page="mail")


# The event's mail and the sign-in sheet ---------------------------------------------------


@console_page
async def mail(request: Request, organiser: Organiser) -> Response:
    page_text = request.query_params.get("page", "1")
    page = parse_number(page_text) or 1
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        messages = await attendance.event_mail(session, event, page=page)
    return render(
        request,
        "organiser/attendance/mail.html",
        console_nav="events",
        event=event,
        messages=messages,
        notice=_notice(request),
    )


@console_page
async def sign_in_sheet(request: Request, organiser: Organiser) -> Response:
    async with unit_of_work(request) as session:
        event = await managed_event(session, organiser, slug=_slug(request))
        people = await attendance.sign_in_sheet(session, event)
    return render(
        request,
        "organiser/attendance/sign_in_sheet.html",
        console_nav="events",
        event=event,
        people=people,
    )


routes: list[BaseRoute] = [
    Route(f"{BASE}/registrations", registrations, name="organiser:registrations"),
    Route(
        f"{BASE}/registrations/attended",
        mark_attended,
        methods=["POST"],
        name="organiser:registrations_attended",
    ),
    Route(f"{BASE}/registrations/new", add_form, name="organiser:registration_new"),
    Route(f"{BASE}/registrations/new", add, methods=["POST"], name="organiser:registration_add"),
    Route(
        f"{BASE}/registrations/{id_param('registration_id')}/{{action}}",
        action_confirm,
        name="organiser:registration_action",
    ),
    Route(
        f"{BASE}/registrations/{id_param('registration_id')}/{{action}}",
        action_do,
        methods=["POST"],
        name="organiser:registration_action_do",
    ),
    Route(f"{BASE}/registrations.csv", export_csv, name="organiser:registrations_csv"),
    Route(f"{BASE}/registrations.xlsx", export_xlsx, name="organiser:registrations_xlsx"),
    Route(f"{BASE}/attendance/import", import_form, name="organiser:attendance_import"),
    Route(
        f"{BASE}/attendance/import",
        import_report,
        methods=["POST"],
        name="organiser:attendance_import_do",
    ),
    Route(f"{BASE}/message", message_form, name="organiser:message"),
    Route(f"{BASE}/message", message_send, methods=["POST"], name="organiser:message_send"),
    Route(f"{BASE}/mail", mail, name="organiser:mail"),
    Route(f"{BASE}/sign-in-sheet", sign_in_sheet, name="organiser:sign_in_sheet"),
]
