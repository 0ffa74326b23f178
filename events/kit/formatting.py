"""How dates, times and numbers read to people: pure functions, used by pages (as Jinja
filters, ``web/templating.py``), emails (``mail/compose.py``) and reports alike."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _hour(value: dt.datetime) -> str:
    text = value.strftime("%I:%M%p").lstrip("0").lower()
    return text.replace(":00", "")


def local_date(value: dt.datetime, zone: str) -> str:
    """'Tuesday 10 March 2026' in the given zone."""
    local = value.astimezone(_zone(zone))
    return f"{local:%A} {local.day} {local:%B %Y}"


def local_time(value: dt.datetime, zone: str) -> str:
    return _hour(value.astimezone(_zone(zone)))


def zone_abbreviation(value: dt.datetime, zone: str) -> str:
    return value.astimezone(_zone(zone)).strftime("%Z")


def when(starts_at: dt.datetime, ends_at: dt.datetime, zone: str, all_day: bool = False) -> str:
    """A human line for an event's time, in its own zone, with the zone named:
    'Tuesday 10 March 2026, 4pm to 5:30pm GMT'."""
    start = starts_at.astimezone(_zone(zone))
    end = ends_at.astimezone(_zone(zone))
    if all_day:
        one_second = dt.timedelta(seconds=1)
        last = (end - one_second).date()
        if last == start.date():
            return local_date(starts_at, zone)
        return f"{local_date(starts_at, zone)} to {local_date(ends_at - one_second, zone)}"
    if start.date() == end.date():
        return f"{local_date(starts_at, zone)}, {_hour(start)} to {_hour(end)} {end.strftime('%Z')}"
    return (
        f"{local_date(starts_at, zone)}, {_hour(start)} {start.strftime('%Z')} to "
        f"{local_date(ends_at, zone)}, {_hour(end)} {end.strftime('%Z')}"
    )


def iso_local(value: dt.datetime, zone: str) -> str:
    return value.astimezone(_zone(zone)).isoformat()


def thousands(value: int) -> str:
    return f"{value:,}"
