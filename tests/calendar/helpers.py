"""Reading calendar bytes back with two independent parsers: ``icalendar`` and ``vobject``.

``vobject`` builds each zone from the VTIMEZONE it reads (not from its name), so it checks
the VTIMEZONE we write; ``icalendar`` looks zones up by name and checks the rest."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import icalendar
import vobject  # type: ignore[import-untyped]


def instants_by_icalendar(body: bytes) -> dict[str, tuple[Any, Any]]:
    calendar = icalendar.Calendar.from_ical(body)
    return {
        str(event["UID"]): (event.decoded("DTSTART"), event.decoded("DTEND"))
        for event in calendar.walk("VEVENT")
    }


def _forget_vobject_zones() -> None:
    """vobject keeps every zone it has read, by TZID, for the life of the process (and
    falls back to pytz by name): forget them so this parse uses this body's VTIMEZONE."""
    registry: dict[str, Any] = getattr(vobject.icalendar, "__tzidMap")
    for name in [name for name in registry if name != "UTC"]:
        del registry[name]


def instants_by_vobject(body: bytes) -> dict[str, tuple[Any, Any]]:
    text = body.decode("utf-8")
    zones = set(re.findall(r"^TZID:(.+?)\r$", text, flags=re.M))
    used = set(re.findall(r";TZID=([^:;]+)[:;]", text))
    assert used <= zones, "every TZID used has its VTIMEZONE"
    _forget_vobject_zones()
    parsed: Any = vobject.readOne(text)
    return {
        str(event.uid.value): (event.dtstart.value, event.dtend.value)
        for event in parsed.vevent_list
    }


def utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None, "a floating time"
        return value.astimezone(dt.UTC)
    return value


def both_parsers_agree(body: bytes) -> dict[str, tuple[Any, Any]]:
    """Every event's (start, end) in UTC, after checking the two parsers agree."""
    first = {uid: (utc(a), utc(b)) for uid, (a, b) in instants_by_icalendar(body).items()}
    second = {uid: (utc(a), utc(b)) for uid, (a, b) in instants_by_vobject(body).items()}
    assert first == second
    return first


def unfolded_lines(body: bytes) -> list[str]:
    return body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
