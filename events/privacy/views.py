"""Privacy pages: ask for a copy of what we hold (subject access), and erase it by the link
that copy carries.

The request page answers the same, byte for byte, whatever the address: whether we hold
anything for it is told only to that address, by email.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from events.errors import InvalidInput
from events.privacy import service
from events.registration.schemas import parse_email
from events.web.context import app_context
from events.web.errors import error_response
from events.web.ratelimit import client_address, limiter_of
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work

HONEYPOT = "website"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}
# Requests per client address and per email address in the rate-limit window.
PER_ADDRESS = 10
PER_EMAIL = 3


def _retention(request: Request) -> dict[str, object]:
    settings = app_context(request).settings
    days = settings.registration_retention_days
    years = f"{days // 365} years" if days % 365 == 0 and days >= 730 else f"{days} days"
    return {"access_days": settings.access_retention_days, "registration_years": years}


def _page(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("retention", _retention(request))
    html = app_context(request).renderer.render(template, **values)
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE)


async def _limited(request: Request, key: str, limit: int) -> Response | None:
    retry = await limiter_of(request).hit(f"privacy:{key}", limit)
    if retry is None:
        return None
    return error_response(
        request,
        429,
        "rate_limited",
        "There have been too many requests in a short time. Please try again later.",
        headers={"Retry-After": str(max(1, int(retry)))},
    )


async def request_form(request: Request) -> Response:
    return _page(request, "privacy/request.html", values={}, errors={})


async def request_copy(request: Request) -> Response:
    context = app_context(request)
    form = await request.form()
    address = client_address(request, context.settings.trusted_networks)
    if limited := await _limited(request, f"address:{address}", PER_ADDRESS):
        return limited
    if form.get(HONEYPOT):
        return _page(request, "privacy/requested.html")
    raw = form.get("email")
    try:
        email = parse_email(raw)
    except InvalidInput as exc:
        values = {"email": raw if isinstance(raw, str) else ""}
        return _page(
            request, "privacy/request.html", status_code=422, values=values, errors=exc.fields
        )
    if limited := await _limited(request, f"email:{email}", PER_EMAIL):
        return limited
    async with unit_of_work(request, write=True) as session:
        await service.request_subject_access(
            session, context.clock, email=email, signer=context.signer
        )
    return _page(request, "privacy/requested.html")


@secret_link
async def erase_form(request: Request) -> Response:
    context = app_context(request)
    token = request.path_params["token"]
    async with unit_of_work(request) as session:
        await service.request_by_token(session, context.clock, token=token, signer=context.signer)
    return _page(request, "privacy/erase.html", token=token)


@secret_link
async def erase(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        erased = await service.erase_by_token(
            session,
            context.clock,
            token=request.path_params["token"],
            signer=context.signer,
        )
    return _page(request, "privacy/erased.html", erased=erased)
