""" "Add to calendar" links for an event's public page: Google Calendar, Outlook.com and
Outlook for work or school (Microsoft 365). Pure: an event and its page address in, URLs out.

Times follow what each service reads:

- a timed event is two UTC instants (``...Z``), so the link means the same moment whatever
  zone the visitor's calendar is in; Google also gets ``ctz``, the zone it shows the event
  in;
- an all-day event is two dates, the first day and the day after the last (exclusive, as
  ``DTEND`` in the ``.ics``): Google's ``dates=YYYYMMDD/YYYYMMDD``; Outlook's ``allday=true``
  with date-only ``startdt``/``enddt`` (an Outlook all-day event runs midnight to midnight,
  so its end is the next day too). A time on an all-day link would land on the wrong day
  for anyone west or east of the event's zone.

Public pages only: nothing here ever carries a personal or management link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from events.calendar.builders import EventView, all_day_dates
from events.catalog.models import Event

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/action/compose"
OFFICE_365 = "https://outlook.office.com/calendar/0/action/compose"


@dataclass(frozen=True)
class AddLinks:
    google: str
    outlook: str
    office365: str


def _query(params: list[tuple[str, str]]) -> str:
    # %20 rather than "+": Outlook shows a "+" in the subject as it is.
    return urlencode(params, quote_via=quote)


def _utc(moment: dt.datetime, fmt: str) -> str:
    return moment.astimezone(dt.UTC).strftime(fmt)


def _location(event: EventView) -> str:
    if event.online:
        return "Online"
    return ", ".join(part for part in (event.venue_name, event.town, event.postcode) if part)


def google_link(event: EventView, *, details: str) -> str:
    params = [("action", "TEMPLATE"), ("text", event.title)]
    if event.all_day:
        first, after_last = all_day_dates(event)
        params.append(("dates", f"{first:%Y%m%d}/{after_last:%Y%m%d}"))
    else:
        stamp = "%Y%m%dT%H%M%SZ"
        dates = f"{_utc(event.starts_at, stamp)}/{_utc(event.ends_at, stamp)}"
        params += [("dates", dates), ("ctz", event.timezone)]
    params += [("details", details), ("location", _location(event))]
    return f"{GOOGLE}?{_query(params)}"


def outlook_link(event: EventView, *, details: str, base: str = OUTLOOK_COM) -> str:
    if event.all_day:
        first, after_last = all_day_dates(event)
        start, end, all_day = first.isoformat(), after_last.isoformat(), "true"
    else:
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        start, end = _utc(event.starts_at, stamp), _utc(event.ends_at, stamp)
        all_day = "false"
    params = [
        ("rru", "addevent"),
        ("subject", event.title),
        ("startdt", start),
        ("enddt", end),
        ("allday", all_day),
        ("body", details),
        ("location", _location(event)),
    ]
    return f"{base}?{_query(params)}"


def add_links(event: Event, page_url: str) -> AddLinks:
    """The three links for an event's page (a template global, see ``events/app.py``)."""
    view = EventView.from_event(event)
    details = f"{view.summary}\n\n{page_url}" if view.summary else page_url
    return AddLinks(
        google=google_link(view, details=details),
        outlook=outlook_link(view, details=details),
        office365=outlook_link(view, details=details, base=OFFICE_365),
    )
