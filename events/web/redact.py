"""Keeping secrets and personal data out of logs.

Secret links carry their token in the path (``/r/{token}``, ``/j/{token}``, ``/c/{token}.ics``,
alert links ...). Anything that logs a path passes it through ``redact_path`` first, which
replaces every segment that looks like a token (long runs of URL-safe base64) whatever the
route, so a new secret link cannot leak by being forgotten here. Query strings are never
logged: they may hold an email address typed into a search box.
"""

from __future__ import annotations

import re

# 20+ URL-safe characters with at least one digit or mixed case: tokens, not slugs.
_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)?(?=/|\.ics$|$)")


def _looks_secret(segment: str) -> bool:
    core = segment.split(".", 1)[0]
    has_digit = any(c.isdigit() for c in core)
    has_upper = any(c.isupper() for c in core)
    has_lower = any(c.islower() for c in core)
    # Slugs are lower case words joined by hyphens; tokens mix cases and digits.
    return has_upper or (has_digit and has_lower and "-" not in core) or "_" in core


def redact_path(path: str) -> str:
    """The path with every token-like segment replaced by ``[redacted]``."""
    return _TOKEN.sub(lambda m: "[redacted]" if _looks_secret(m.group(0)) else m.group(0), path)
