"""Row ids from outside (paths, forms, JSON bodies), checked against the database's range.

Primary keys are 32-bit signed integers on PostgreSQL: asking for ``2147483648`` is an error
there (a 500), not "no such row". Every id that comes from outside passes ``parse_id`` (form
values, query values) or ``valid_id`` (already an int, from JSON), or arrives through the
``id`` path convertor (``web/ids.py``) built on the same bounds.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite takes more, but one rule for both


def valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_number(text: object, *, max_digits: int = 6) -> int | None:
    """A small whole number from outside (a page, a count), or None. Only ASCII digits:
    ``str.isdigit`` also accepts "²" and other digits ``int`` refuses."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    return int(text) if len(text) <= max_digits else None


def parse_id(text: object) -> int | None:
    """The id a form or query value names, or None when it cannot name a row."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if valid_id(value) else None
