"""Add-to-calendar links: all-day events as dates (end exclusive), timed events in UTC."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from events.calendar import links
from tests.calendar.test_builders import make_event
from tests.factories import Factory

DETAILS = "Know your rights.\n\nhttps://events.example.org/events/an-event"


def _query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


def _london_midnight(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=ZoneInfo("Europe/London")).astimezone(dt.UTC)


# A one-day event in British Summer Time: in UTC it starts the evening before, which a link
# in UTC would show on the wrong day (or across two days) in every calendar.
ONE_DAY = make_event(
    all_day=True,
    starts_at=_london_midnight(2026, 6, 13),
    ends_at=_london_midnight(2026, 6, 14),
)
# Friday to Sunday, stored as ending at 17:00 on the last day.
THREE_DAYS = make_event(
    all_day=True,
    starts_at=_london_midnight(2026, 7, 3),
    ends_at=_london_midnight(2026, 7, 5) + dt.timedelta(hours=17),
)


def test_google_link_for_an_all_day_event_uses_dates_with_the_end_exclusive() -> None:
    one = _query(links.google_link(ONE_DAY, details=DETAILS))
    assert one["dates"] == "20260613/20260614"
    assert "ctz" not in one
    three = _query(links.google_link(THREE_DAYS, details=DETAILS))
    assert three["dates"] == "20260703/20260706"
    assert three["action"] == "TEMPLATE" and three["text"] == "Workload webinar"


def test_google_link_for_a_timed_event_keeps_utc_times_and_the_zone() -> None:
    timed = make_event(
        starts_at=dt.datetime(2026, 6, 13, 17, 30, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 6, 13, 19, 0, tzinfo=dt.UTC),
    )
    query = _query(links.google_link(timed, details=DETAILS))
    assert query["dates"] == "20260613T173000Z/20260613T190000Z"
    assert query["ctz"] == "Europe/London"
    assert query["details"] == DETAILS and query["location"] == "Online"


def test_outlook_links_for_all_day_events_are_date_only_and_all_day() -> None:
    for base in (links.OUTLOOK_COM, links.OFFICE_365):
        one = _query(links.outlook_link(ONE_DAY, details=DETAILS, base=base))
        assert (one["allday"], one["startdt"], one["enddt"]) == ("true", "2026-06-13", "2026-06-14")
        three = _query(links.outlook_link(THREE_DAYS, details=DETAILS, base=base))
        assert (three["startdt"], three["enddt"]) == ("2026-07-03", "2026-07-06")
        assert three["rru"] == "addevent" and three["subject"] == "Workload webinar"


def test_outlook_links_for_timed_and_multi_day_events_are_utc_instants() -> None:
    # Two days, with times: an instant each end, in UTC, never the visitor's own zone.
    timed = make_event(
        starts_at=dt.datetime(2026, 10, 24, 8, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 10, 25, 16, 0, tzinfo=dt.UTC),
    )
    for base in (links.OUTLOOK_COM, links.OFFICE_365):
        url = links.outlook_link(timed, details=DETAILS, base=base)
        assert url.startswith(base + "?")
        query = _query(url)
        assert query["allday"] == "false"
        assert (query["startdt"], query["enddt"]) == (
            "2026-10-24T08:00:00Z",
            "2026-10-25T16:00:00Z",
        )
        assert "+" not in url  # spaces are %20: Outlook shows a "+" as it is


def test_in_person_location_and_text_are_encoded() -> None:
    event = dataclasses.replace(
        ONE_DAY, title="Pay & conditions #1", online=False, venue_name="Hall", town="Leeds"
    )
    url = links.google_link(event, details="a&b=c")
    query = _query(url)
    assert query["text"] == "Pay & conditions #1"
    assert query["location"] == "Hall, Leeds"
    assert query["details"] == "a&b=c"


async def test_event_page_offers_the_links_for_an_all_day_event(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(
        "Conference",
        all_day=True,
        timezone="Europe/London",
        starts_at=_london_midnight(2026, 6, 13),
        ends_at=_london_midnight(2026, 6, 15),
    )
    page = await client.get(f"/events/{event.slug}")
    assert page.status_code == 200
    hrefs = [html.unescape(h) for h in re.findall(r'href="(https://[^"]+)"', page.text)]
    google = next(h for h in hrefs if h.startswith(links.GOOGLE))
    assert _query(google)["dates"] == "20260613/20260615"
    for base in (links.OUTLOOK_COM, links.OFFICE_365):
        outlook = _query(next(h for h in hrefs if h.startswith(base)))
        assert (outlook["startdt"], outlook["enddt"], outlook["allday"]) == (
            "2026-06-13",
            "2026-06-15",
            "true",
        )
    assert f"http://testserver/events/{event.slug}" in _query(google)["details"]
