"""The one JSON body reader of both JSON doors (the public registration API and the organiser
write API), and its errors, rendered by ``web/errors.py`` as ``{status, code, message}``.

DomainError
├── InvalidJson            400  invalid_json
├── BodyTooLarge           413  too_large
└── UnsupportedMediaType   415  unsupported_media_type

Validation of the parsed value stays with each door's schema, which raises
``InvalidInput`` (422 with ``fields``), rendered by the same handler.
"""

from __future__ import annotations

import json

from starlette.requests import Request

from events.errors import DomainError


class InvalidJson(DomainError):
    status = 400
    code = "invalid_json"
    message = "The body is not valid JSON."


class BodyTooLarge(DomainError):
    status = 413
    code = "too_large"
    message = "That request is too large."


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as application/json."


def require_json(request: Request, *, message: str | None = None) -> None:
    """``UnsupportedMediaType`` unless the body is declared ``application/json``: also what
    keeps a cross-site HTML form out (it cannot send that type)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(message)


async def json_body(request: Request, *, max_bytes: int, message: str | None = None) -> object:
    """The request's JSON value, read once, at most ``max_bytes`` long."""
    require_json(request, message=message)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge()
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidJson() from None
