"""Topic alert pages: subscribe (from the topic page), confirm, unsubscribe.

The subscribe answer is the same page whatever the address, so the form tells nobody who
is subscribed. Confirming is a button (POST) behind the emailed link, so a mail scanner
fetching the link confirms nothing. Unsubscribing accepts RFC 8058's one-click POST, which
mail providers send without any CSRF token: the secret link itself is the proof.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from events.alerts import service
from events.alerts.schemas import SubscribeInput
from events.catalog import queries
from events.errors import InvalidInput
from events.web.context import app_context
from events.web.csrf import csrf_exempt
from events.web.ratelimit import client_address, limiter_of, wait_phrase
from events.web.results import see_other
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work
from events.web.urls import path_for

HONEYPOT = "website"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}


async def _limited(request: Request, key: str, limit: int, what: str) -> dict[str, Any] | None:
    """None when allowed, else what the form says (``problem``) and the Retry-After header."""
    retry = await limiter_of(request).hit(key, limit)
    if retry is None:
        return None
    seconds = max(1, math.ceil(retry))
    return {
        "problem": f"There have been too many alert requests {what} in a short time. "
        f"Please wait {wait_phrase(seconds)} and try again.",
        "headers": {"Retry-After": str(seconds)},
    }


async def _form_page(
    request: Request,
    slug: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = app_context(request)
    async with unit_of_work(request) as session:
        topic = await queries.topic_by_slug(session, slug)
    html = context.renderer.render(
        "alerts/subscribe.html",
        topic=topic,
        values=values or {},
        errors=errors or {},
        problem=problem,
    )
    return HTMLResponse(html, status_code=status_code, headers={**PRIVATE, **(headers or {})})


async def subscribe_form(request: Request) -> Response:
    return await _form_page(request, request.path_params["slug"])


def _values(form: FormData) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k in {"email", "frequency"}}


async def subscribe(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]
    form = await request.form()
    settings = context.settings
    # Post/Redirect/Get: the answer is the same page for everyone (and for the honeypot), so
    # nobody learns who is subscribed, and a reload sends no second confirmation email.
    sent = see_other(path_for(request, "alerts:check_email", slug=slug), PRIVATE)
    if form.get(HONEYPOT):
        # Only automated form fillers see this field: the usual answer, and nothing queued.
        return sent
    values = _values(form)
    try:
        data = SubscribeInput.from_form(form)
    except InvalidInput as exc:  # counted against nobody
        return await _form_page(request, slug, values=values, errors=exc.fields, status_code=422)
    address = client_address(request, settings.trusted_networks)
    for key, limit, what in (
        (f"alerts-address:{address}", settings.rate_limit_per_address, "from your connection"),
        (f"alerts-email:{data.email}", settings.alert_rate_limit_per_email, "for that email"),
    ):
        if held := await _limited(request, key, limit, what):
            return await _form_page(request, slug, values=values, status_code=429, **held)
    async with unit_of_work(request, write=True) as session:
        await service.subscribe(
            session, context.clock, topic_slug=slug, email=data.email, frequency=data.frequency
        )
    return sent


async def check_email(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        topic = await queries.topic_by_slug(session, request.path_params["slug"])
    html = context.renderer.render("alerts/check_email.html", topic=topic)
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def confirm_form(request: Request) -> Response:
    context = app_context(request)
    token = request.path_params["token"]
    async with unit_of_work(request) as session:
        subscription = await service.subscription_by_token(
            session, token=token, signer=context.signer, purpose="confirm"
        )
        await session.refresh(subscription, ["topic"])
    html = context.renderer.render("alerts/confirm.html", subscription=subscription, token=token)
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def confirm(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        subscription = await service.confirm(
            session,
            context.clock,
            token=request.path_params["token"],
            signer=context.signer,
        )
    html = context.renderer.render("alerts/confirmed.html", subscription=subscription)
    return HTMLResponse(html, headers=PRIVATE)


@secret_link
async def unsubscribe_form(request: Request) -> Response:
    context = app_context(request)
    token = request.path_params["token"]
    async with unit_of_work(request) as session:
        subscription = await service.subscription_by_token(
            session, token=token, signer=context.signer, purpose="unsubscribe"
        )
        await session.refresh(subscription, ["topic"])
    html = context.renderer.render(
        "alerts/unsubscribe.html", subscription=subscription, token=token
    )
    return HTMLResponse(html, headers=PRIVATE)


@csrf_exempt(
    "RFC 8058 one-click unsubscribe: mail providers POST here with no cookie or token; the "
    "secret link authorises it, and a forged request could only stop alerts its sender "
    "already knew the link for."
)
@secret_link
async def unsubscribe(request: Request) -> Response:
    context = app_context(request)
    await request.form()  # read and ignore the body (the one-click field, or our button)
    async with unit_of_work(request, write=True) as session:
        subscription = await service.unsubscribe(
            session,
            context.clock,
            token=request.path_params["token"],
            signer=context.signer,
        )
    html = context.renderer.render("alerts/unsubscribed.html", subscription=subscription)
    return HTMLResponse(html, headers=PRIVATE)
