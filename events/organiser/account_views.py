"""Console pages for the account itself: sign in and out, the dashboard, your account,
password change and API tokens."""

from __future__ import annotations

import datetime as dt
import math

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from events.errors import InvalidInput
from events.organiser import accounts, dashboard
from events.organiser.models import Organiser
from events.organiser.web import (
    PRIVATE_HEADERS,
    clear_session_cookie,
    console_page,
    render,
    safe_next,
    session_token,
    set_session_cookie,
    signed_in,
)
from events.web.context import app_context
from events.web.ids import id_param
from events.web.ratelimit import client_address
from events.web.uow import unit_of_work
from events.web.urls import path_for

LOGIN_FIELDS = ("email", "password")


def _field(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def wait_text(delta: dt.timedelta) -> str:
    seconds = max(1, math.ceil(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render(
        request,
        "organiser/login.html",
        console_nav="login",
        next_path=next_path,
        email=email,
        errors=errors or {},
        problem=problem,
        status_code=status_code,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def login(request: Request) -> Response:
    if request.method != "POST":
        next_path = safe_next(request.query_params.get("next"))
        if await signed_in(request) is not None:
            return RedirectResponse(next_path, status_code=303, headers=PRIVATE_HEADERS)
        return _login_page(request, next_path=next_path)
    form = await request.form()
    next_path = safe_next(_field(form, "next", 2000))
    email = _field(form, "email", 320).strip()
    password = _field(form, "password")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if errors:
        return _login_page(
            request, next_path=next_path, email=email, errors=errors, status_code=422
        )
    context = app_context(request)
    settings = context.settings
    async with unit_of_work(request, write=True) as session:
        result = await accounts.login(
            session,
            context.clock,
            email=email,
            password=password,
            address=client_address(request, settings.trusted_networks),
            signer=context.signer,
            policies=accounts.LoginPolicies.from_settings(settings),
            previous_token=session_token(request),
        )
    if result.started is not None:
        response = RedirectResponse(next_path, status_code=303, headers=PRIVATE_HEADERS)
        set_session_cookie(request, response, result.started.token)
        return response
    problem = ""
    if result.wrong_details:
        problem = "That email address and password do not match an organiser account."
    headers: dict[str, str] = {}
    status = 401
    if result.retry_after is not None:
        wait = wait_text(result.retry_after)
        problem = (
            problem + " " if problem else ""
        ) + f"Too many failed attempts: wait {wait}, then try again."
        headers["Retry-After"] = str(max(1, math.ceil(result.retry_after.total_seconds())))
        status = 429
    return _login_page(
        request,
        next_path=next_path,
        email=email,
        problem=problem,
        status_code=status,
        headers=headers,
    )


async def logout(request: Request) -> Response:
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        await accounts.logout(
            session, context.clock, token=session_token(request), signer=context.signer
        )
    response = RedirectResponse(
        path_for(request, "organiser:login"), status_code=303, headers=PRIVATE_HEADERS
    )
    clear_session_cookie(response)
    return response


@console_page
async def dashboard_page(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    lead = dt.timedelta(days=context.settings.access_booking_lead_days)
    async with unit_of_work(request) as session:
        board = await dashboard.dashboard(
            session, context.clock, organiser, zone=context.settings.timezone, lead=lead
        )
    return render(
        request,
        "organiser/dashboard.html",
        console_nav="dashboard",
        board=board,
        registrations_chart=dashboard.registrations_chart(board.per_day),
        attendance_chart=dashboard.attendance_chart(board.attendance),
        long_day=dashboard.long_day,
        lead_days=context.settings.access_booking_lead_days,
    )


@console_page
async def account_page(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    async with unit_of_work(request) as session:
        sessions = await accounts.active_sessions(session, context.clock, organiser)
    return render(
        request,
        "organiser/account.html",
        console_nav="account",
        sessions=sessions,
        zone=context.settings.timezone,
        changed=request.query_params.get("changed") == "password",
    )


def _password_page(
    request: Request, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "organiser/password.html",
        console_nav="account",
        errors=errors or {},
        status_code=status_code,
    )


@console_page
async def password_page(request: Request, organiser: Organiser) -> Response:
    if request.method != "POST":
        return _password_page(request)
    form = await request.form()
    context = app_context(request)
    try:
        async with unit_of_work(request, write=True) as session:
            started = await accounts.change_password(
                session,
                context.clock,
                organiser,
                current=_field(form, "current_password"),
                new=_field(form, "new_password", 2000),
                confirm=_field(form, "confirm_password", 2000),
                signer=context.signer,
            )
    except InvalidInput as exc:
        return _password_page(request, errors=exc.fields, status_code=422)
    response = RedirectResponse(
        path_for(request, "organiser:account", query={"changed": "password"}),
        status_code=303,
        headers=PRIVATE_HEADERS,
    )
    set_session_cookie(request, response, started.token)
    return response


async def _tokens_page(
    request: Request,
    organiser: Organiser,
    *,
    new_token: str = "",
    new_name: str = "",
    name: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with unit_of_work(request) as session:
        tokens = await accounts.api_tokens(session, organiser)
    return render(
        request,
        "organiser/tokens.html",
        console_nav="account",
        tokens=tokens,
        new_token=new_token,
        new_name=new_name,
        token_name=name,
        errors=errors or {},
        zone=app_context(request).settings.timezone,
        revoked=request.query_params.get("revoked") == "1",
        status_code=status_code,
    )


@console_page
async def tokens_page(request: Request, organiser: Organiser) -> Response:
    if request.method != "POST":
        return await _tokens_page(request, organiser)
    form = await request.form()
    context = app_context(request)
    name = _field(form, "name", 500)
    try:
        async with unit_of_work(request, write=True) as session:
            created = await accounts.create_api_token(
                session, context.clock, organiser, name=name, signer=context.signer
            )
    except InvalidInput as exc:
        return await _tokens_page(request, organiser, name=name, errors=exc.fields, status_code=422)
    # Shown on this response only: the database keeps nothing it could be read back from.
    return await _tokens_page(
        request, organiser, new_token=created.token, new_name=created.row.name
    )


@console_page
async def revoke_token(request: Request, organiser: Organiser) -> Response:
    context = app_context(request)
    async with unit_of_work(request, write=True) as session:
        await accounts.revoke_api_token(
            session, context.clock, organiser, token_id=request.path_params["token_id"]
        )
    return RedirectResponse(
        path_for(request, "organiser:tokens", query={"revoked": 1}),
        status_code=303,
        headers=PRIVATE_HEADERS,
    )


routes: list[BaseRoute] = [
    Route("/organiser/", dashboard_page, name="organiser:dashboard"),
    Route("/organiser/login", login, methods=["GET", "POST"], name="organiser:login"),
    Route("/organiser/logout", logout, methods=["POST"], name="organiser:logout"),
    Route("/organiser/account", account_page, name="organiser:account"),
    Route(
        "/organiser/account/password",
        password_page,
        methods=["GET", "POST"],
        name="organiser:password",
    ),
    Route(
        "/organiser/account/tokens",
        tokens_page,
        methods=["GET", "POST"],
        name="organiser:tokens",
    ),
    Route(
        f"/organiser/account/tokens/{id_param('token_id')}/revoke",
        revoke_token,
        methods=["POST"],
        name="organiser:revoke_token",
    ),
]
