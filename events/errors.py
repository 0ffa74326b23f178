"""The domain error tree. Services raise these; ``web/errors.py`` renders them, once.

    DomainError                    status  code
    ├── NotFound                   404     not_found
    ├── TooManyRequests            429     rate_limited, with Retry-After
    ├── Forbidden                  403     forbidden
    ├── Conflict                   409     conflict  (rooms subclass with their own codes)
    └── InvalidInput               422     invalid_input, with per-field messages

Each error carries a message written for the person who will read it, and a stable
machine-readable ``code`` for API clients.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class DomainError(Exception):
    status = 400
    code = "error"
    message = "Something about that request was not right."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "We could not find that page."


class TooManyRequests(DomainError):
    """A rate limit: ``Retry-After`` says when to try again."""

    status = 429
    code = "rate_limited"
    message = "Too many requests in a short time. Wait a little and try again."

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "That clashes with the current state of things."


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"
    message = "Some of the values need correcting."

    def __init__(
        self, fields: Mapping[str, str], message: str | None = None, *, code: str | None = None
    ) -> None:
        self.fields = dict(fields)
        super().__init__(message, code=code)
