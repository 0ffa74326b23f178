"""The one place where errors become responses: an HTML page, or JSON under /api/."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from events.errors import DomainError, InvalidInput
from events.web.context import app_context
from events.web.redact import redact_path

log = logging.getLogger("events.web")

HTTP_MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "We could not find that page."),
    405: ("method_not_allowed", "That action is not available here."),
    413: ("too_large", "That request is too large."),
    500: ("server_error", "Something went wrong on our side."),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if _wants_json(request):
        body: dict[str, object] = {"status": status, "code": code, "message": message}
        if fields:
            body["fields"] = fields
        return JSONResponse(body, status_code=status, headers=headers)
    template = "errors/404.html" if status == 404 else "errors/error.html"
    try:
        html = app_context(request).renderer.render(
            template, status=status, code=code, message=message, fields=fields or {}
        )
    except Exception:  # the error page itself must never fail
        log.exception("error page could not be rendered")
        html = f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1>"
    return HTMLResponse(html, status_code=status, headers=headers)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    fields = exc.fields if isinstance(exc, InvalidInput) else None
    # An error may carry headers of its own (Retry-After, WWW-Authenticate).
    headers: Mapping[str, str] | None = getattr(exc, "headers", None)
    return error_response(request, exc.status, exc.code, exc.message, fields, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = HTTP_MESSAGES.get(exc.status_code, ("error", str(exc.detail)))
    return error_response(request, exc.status_code, code, message, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    # Logged with the path only (tokens redacted): no query string, no form data, no
    # personal data. The engine hides SQL parameters from exception messages (db.py).
    log.error(
        "unhandled error on %s %s", request.method, redact_path(request.url.path), exc_info=exc
    )
    code, message = HTTP_MESSAGES[500]
    return error_response(request, 500, code, message)


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: server_error,
}
