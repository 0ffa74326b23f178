"""Errors of the API room's own (the body of a write request), under the tree drawn in
``events/errors.py``; ``web/errors.py`` renders them as JSON under /api/.

DomainError
├── InvalidJson            400  invalid_json
├── BodyTooLarge           413  too_large
└── UnsupportedMediaType   415  unsupported_media_type
"""

from __future__ import annotations

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
