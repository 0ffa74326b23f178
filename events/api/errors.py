"""The errors of a write request's body live with the one JSON reader both JSON doors use
(``web/json_body.py``); re-exported here for the API room."""

from __future__ import annotations

from events.web.json_body import BodyTooLarge, InvalidJson, UnsupportedMediaType

__all__ = ["BodyTooLarge", "InvalidJson", "UnsupportedMediaType"]
