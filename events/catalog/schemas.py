"""Parsing the listing's query parameters (shared by the HTML listing and the JSON API).

Parsing only: turn strings into typed values or per-field messages. No database, no rules.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlencode

from events.catalog.models import EventFormat, EventKind
from events.errors import InvalidInput

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
_ACCESS_CODE = re.compile(r"^[a-z_]{1,40}$")


class QueryParams(Protocol):
    def get(self, key: str, /) -> str | None: ...
    def getlist(self, key: str, /) -> list[str]: ...


@dataclass(frozen=True)
class Cursor:
    """A position in the listing's order: (starts_at, id). Opaque to clients."""

    starts_at: dt.datetime
    id: int

    def encode(self) -> str:
        raw = f"{int(self.starts_at.timestamp() * 1_000_000)}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            micros, ident = base64.urlsafe_b64decode(padded).decode().split(":")
            moment = dt.datetime.fromtimestamp(int(micros) / 1_000_000, dt.UTC)
            return cls(starts_at=moment, id=int(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError, OSError):
            raise ValueError("not a valid page cursor") from None


@dataclass(frozen=True)
class ListingFilters:
    topic: str | None = None
    kind: EventKind | None = None
    format: EventFormat | None = None
    region: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    past: bool = False
    access: tuple[str, ...] = ()
    after: Cursor | None = None
    before: Cursor | None = None
    campaign: str | None = None
    series: str | None = None
    place: str = ""
    per_page: int | None = None
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        return self.q.split()[:MAX_QUERY_WORDS]

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.topic
            or self.kind
            or self.format
            or self.region
            or self.date_from
            or self.date_to
            or self.q
            or self.access
            or self.place
        )

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query parameters (without the page cursor), for links."""
        items: list[tuple[str, str]] = []
        for key, value in (
            ("q", self.q),
            ("topic", self.topic),
            ("kind", self.kind.value if self.kind else None),
            ("format", self.format.value if self.format else None),
            ("region", self.region),
            ("place", self.place),
            ("from", self.date_from.isoformat() if self.date_from else None),
            ("to", self.date_to.isoformat() if self.date_to else None),
        ):
            if value:
                items.append((key, value))
        items.extend(("access", code) for code in self.access)
        if self.past:
            items.append(("past", "1"))
        if self.per_page:
            items.append(("per_page", str(self.per_page)))
        return items

    def query_string(self, **extra: str) -> str:
        return urlencode(self.query_items() + list(extra.items()))

    def without_cursor(self) -> ListingFilters:
        return replace(self, after=None, before=None)


def _clean_text(value: str | None, limit: int = MAX_QUERY_LENGTH) -> str:
    if not value:
        return ""
    # Control characters (NUL included) and lone surrogates have no place in a search.
    cleaned = (
        "".join(ch for ch in value if ch.isprintable() or ch == " ")
        .encode("utf-8", "ignore")
        .decode("utf-8")
    )
    return " ".join(cleaned.split())[:limit]


def _parse_date(raw: str | None, name: str, errors: dict[str, str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD, for example 2026-03-10."
        return None


def _parse_slug(raw: str | None, name: str, errors: dict[str, str]) -> str | None:
    if not raw:
        return None
    value = raw.strip().lower()
    if not _SLUG.match(value):
        errors[name] = f"There is no {name} called that."
        return None
    return value


def parse_listing(params: QueryParams, *, max_per_page: int = 100) -> ListingFilters:
    """Parse listing filters; raise InvalidInput naming each field that could not be read."""
    errors: dict[str, str] = {}

    kind: EventKind | None = None
    if raw_kind := params.get("kind"):
        try:
            kind = EventKind(raw_kind)
        except ValueError:
            choices = ", ".join(k.value for k in EventKind)
            errors["kind"] = f"Kind must be one of: {choices}."

    event_format: EventFormat | None = None
    if raw_format := params.get("format"):
        try:
            event_format = EventFormat(raw_format)
        except ValueError:
            choices = ", ".join(f.value for f in EventFormat)
            errors["format"] = f"Format must be one of: {choices}."

    date_from = _parse_date(params.get("from"), "from", errors)
    date_to = _parse_date(params.get("to"), "to", errors)
    if date_from and date_to and date_to < date_from:
        errors["to"] = "The end date must be on or after the start date."

    access: list[str] = []
    for raw in params.getlist("access"):
        code = raw.strip()
        if not code:
            continue
        if not _ACCESS_CODE.match(code):
            errors["access"] = "Choose access provisions from the list."
        elif code not in access:
            access.append(code)

    after = before = None
    for name in ("after", "before"):
        if raw_cursor := params.get(name):
            try:
                cursor = Cursor.decode(raw_cursor)
            except ValueError:
                errors[name] = "That page link is not valid; start from the first page."
                continue
            if name == "after":
                after = cursor
            else:
                before = cursor

    # ``limit`` is another name for ``per_page`` (what many API clients send), with the
    # same maximum; both at once must agree.
    per_page: int | None = None
    for name in ("per_page", "limit"):
        if not (raw_size := params.get(name)):
            continue
        try:
            value = int(raw_size)
            if not 1 <= value <= max_per_page:
                raise ValueError
        except ValueError:
            errors[name] = f"{name} must be a whole number from 1 to {max_per_page}."
            continue
        if per_page is not None and value != per_page:
            errors[name] = "Send per_page or limit, not both with different values."
            continue
        per_page = value

    past_raw = (params.get("past") or "").strip().lower()
    if past_raw not in {"", "0", "1", "true", "false", "yes", "no", "on", "off"}:
        errors["past"] = "past must be true or false."

    filters = ListingFilters(
        topic=_parse_slug(params.get("topic"), "topic", errors),
        kind=kind,
        format=event_format,
        region=_parse_slug(params.get("region"), "region", errors),
        date_from=date_from,
        date_to=date_to,
        q=_clean_text(params.get("q")),
        past=past_raw in {"1", "true", "yes", "on"},
        access=tuple(access),
        after=after,
        before=before,
        place=_clean_text(params.get("place"), 60),
        per_page=per_page,
    )
    if errors:
        raise InvalidInput(errors, "Some of the filters could not be used.", code="invalid_filter")
    return filters
