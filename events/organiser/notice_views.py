"""Console pages for the public notices (the privacy notice and the accessibility
statement): admins only; anyone else gets 404, as if the page did not exist. A save answers
303 back to the page (Post/Redirect/Get); "Preview" shows the text as the public page will,
without saving."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from events.audit.service import Actor
from events.errors import InvalidInput, NotFound
from events.organiser.models import Organiser
from events.organiser.web import PRIVATE_HEADERS, console_page, render
from events.privacy import notices
from events.web.context import app_context
from events.web.uow import unit_of_work
from events.web.urls import path_for


def _notice(request: Request, organiser: Organiser) -> notices.Notice:
    notice = notices.notice_by_slug(request.path_params["which"])
    if notice is None or not organiser.is_admin:
        raise NotFound()
    return notice


def _form(
    request: Request,
    notice: notices.Notice,
    *,
    body: str,
    errors: dict[str, str] | None = None,
    preview: bool = False,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "organiser/notice.html",
        status_code=status_code,
        console_nav="notices",
        notice=notice,
        others=[other for other in notices.Notice if other is not notice],
        public_url=path_for(request, _PUBLIC[notice]),
        values={"body": body},
        errors=errors or {},
        preview=preview,
        done=done,
    )


_PUBLIC = {
    notices.Notice.privacy: "privacy:notice",
    notices.Notice.accessibility: "privacy:accessibility",
}


@console_page
async def edit_notice(request: Request, organiser: Organiser) -> Response:
    notice = _notice(request, organiser)
    context = app_context(request)
    retention = notices.Retention.of(context.settings)
    if request.method == "GET":
        async with unit_of_work(request) as session:
            text = await notices.current(session, notice, retention)
        return _form(request, notice, body=text.body, done="done" in request.query_params)
    form = await request.form()
    raw = form.get("body")
    shown = raw if isinstance(raw, str) else ""
    try:
        body = notices.parse_body(raw)
    except InvalidInput as invalid:
        return _form(request, notice, body=shown, errors=invalid.fields, status_code=422)
    if form.get("action") == "preview":
        return _form(request, notice, body=body, preview=True)
    async with unit_of_work(request, write=True) as session:
        await notices.save(session, context.clock, Actor.of(organiser), notice, body, retention)
    return RedirectResponse(
        path_for(request, "organiser:notice", which=notice.slug, query={"done": "1"}),
        status_code=303,
        headers=PRIVATE_HEADERS,
    )


routes: list[BaseRoute] = [
    Route(
        "/organiser/notices/{which}", edit_notice, methods=["GET", "POST"], name="organiser:notice"
    ),
]
