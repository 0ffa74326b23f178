"""Privacy pages: ask for a copy of what we hold (subject access), and erase it by the link
that copy carries.

The request page answers the same, byte for byte, whatever the address: whether we hold
anything for it is told only to that address, by email.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from events.errors import InvalidInput
from events.privacy import service
from events.registration.schemas import parse_email
from events.web.context import app_context
from events.web.ratelimit import client_address, limiter_of, wait_phrase
from events.web.results import see_other
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work
from events.web.urls import path_for

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


def _page(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    values.setdefault("retention", _retention(request))
    html = app_context(request).renderer.render(template, **values)
    return HTMLResponse(html, status_code=status_code, headers={**PRIVATE, **(headers or {})})


async def _limited(request: Request, key: str, limit: int) -> dict[str, Any] | None:
    """None when allowed, else what the form says (``problem``) and the Retry-After header."""
    retry = await limiter_of(request).hit(f"privacy:{key}", limit)
    if retry is None:
        return None
    seconds = max(1, math.ceil(retry))
    return {
        "problem": "There have been too many requests in a short time. "
        f"Please wait {wait_phrase(seconds)} and try again.",
        "headers": {"Retry-After": str(seconds)},
    }


async def request_form(request: Request) -> Response:
    return _page(request, "privacy/request.html", values={}, errors={}, problem="")


async def request_copy(request: Request) -> Response:
    context = app_context(request)
    form = await request.form()
    # Post/Redirect/Get to one page for every address (and for the honeypot): it tells
    # nothing, and a reload sends no second copy.
    sent = see_other(path_for(request, "privacy:requested"), PRIVATE)
    if form.get(HONEYPOT):
        return sent
    raw = form.get("email")
    values = {"email": raw if isinstance(raw, str) else ""}
    try:
        email = parse_email(raw)
    except InvalidInput as exc:  # counted against nobody
        return _page(
            request,
            "privacy/request.html",
            status_code=422,
            values=values,
            errors=exc.fields,
            problem="",
        )
    address = client_address(request, context.settings.trusted_networks)
    for key, limit in ((f"address:{address}", PER_ADDRESS), (f"email:{email}", PER_EMAIL)):
        if held := await _limited(request, key, limit):
            return _page(
                request, "privacy/request.html", status_code=429, values=values, errors={}, **held
            )
    async with unit_of_work(request, write=True) as session:
        await service.request_subject_access(
            session, context.clock, email=email, signer=context.signer
        )
    return sent


async def requested(request: Request) -> Response:
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
