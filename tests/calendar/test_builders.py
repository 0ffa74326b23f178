"""Pure builders: every object read back by two parsers, times right across clock changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]

from events.calendar import builders
from events.calendar.builders import Attendee, EventView
from tests.calendar.helpers import both_parsers_agree, instants_by_vobject, unfolded_lines

LONDON = ZoneInfo("Europe/London")
STAMP = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
PAGE = "https://events.example.org/events/an-event"


def make_event(**overrides: object) -> EventView:
    fields: dict[str, object] = {
        "uid": "0f0e8c3c-5d1b-4d0c-9a0e-111111111111@events",
        "slug": "an-event",
        "title": "Workload webinar",
        "summary": "Know your rights.",
        "description": "Bring questions.",
        "starts_at": dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC),
        "ends_at": dt.datetime(2026, 3, 10, 19, 0, tzinfo=dt.UTC),
        "timezone": "Europe/London",
        "all_day": False,
        "venue_name": "",
        "venue_address": "",
        "town": "",
        "postcode": "",
        "organiser_name": "Events team",
        "organiser_email": "events@example.org",
        "ical_sequence": 0,
        "updated_at": STAMP,
        "cancelled": False,
        "online": True,
    }
    fields.update(overrides)
    return EventView(**fields)  # type: ignore[arg-type]


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


CLOCK_CHANGES = [
    # Before, across and after 29 March 2026 (01:00 UTC) and 25 October 2026 (01:00 UTC).
    (_local(2026, 3, 28, 23, 30), _local(2026, 3, 29, 3, 30)),
    (_local(2026, 3, 29, 0, 30), _local(2026, 3, 29, 2, 30)),
    (_local(2026, 3, 29, 9, 0), _local(2026, 3, 29, 10, 0)),
    (_local(2026, 10, 24, 23, 0), _local(2026, 10, 25, 3, 0)),
    (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    ),
    (_local(2026, 10, 25, 9, 0), _local(2026, 10, 25, 10, 0)),
    (_local(2027, 3, 28, 9, 0), _local(2027, 10, 31, 9, 0)),
    (_local(2030, 7, 1, 9, 0), _local(2030, 7, 1, 10, 0)),
]


@pytest.mark.parametrize(("starts_at", "ends_at"), CLOCK_CHANGES)
def test_instants_agree_in_two_parsers_across_clock_changes(
    starts_at: dt.datetime, ends_at: dt.datetime
) -> None:
    event = make_event(starts_at=starts_at, ends_at=ends_at)
    body = builders.download(event, page_url=PAGE)
    assert both_parsers_agree(body) == {event.uid: (starts_at, ends_at)}


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Sydney", "Europe/Dublin"])
def test_instants_agree_in_two_parsers_in_other_zones(zone: str) -> None:
    tz = ZoneInfo(zone)
    events = [
        make_event(
            uid=f"{month}-{day}@events",
            timezone=zone,
            starts_at=dt.datetime(2026, month, day, 9, tzinfo=tz).astimezone(dt.UTC),
            ends_at=dt.datetime(2026, month, day, 10, tzinfo=tz).astimezone(dt.UTC),
        )
        for month in range(1, 13)
        for day in (1, 15)
    ]
    parts = [(builders.vevent(e, page_url=PAGE), builders.uses_zone(e)) for e in events]
    body = builders.feed("Zones", parts)
    expected = {e.uid: (e.starts_at, e.ends_at) for e in events}
    assert both_parsers_agree(body) == expected


def test_repeated_hour_is_written_in_utc_when_clocks_go_back() -> None:
    starts_at = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 01:30 BST; 01:30 GMT follows
    event = make_event(starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=1))
    lines = unfolded_lines(builders.download(event, page_url=PAGE))
    assert "DTSTART:20261025T003000Z" in lines


def test_vtimezone_is_one_yearly_rule_each_way_for_london() -> None:
    text = builders.vtimezone("Europe/London").decode()
    assert "RDATE" not in text
    assert text.count("RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3") == 1
    assert text.count("RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10") == 1
    assert "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100" in text or "TZOFFSETTO:+0100" in text


def test_second_parser_catches_a_wrong_vtimezone_control() -> None:
    """Control: the second parser reads our VTIMEZONE, so a wrong one shows as wrong times."""
    event = make_event(starts_at=_local(2026, 7, 1, 9, 0), ends_at=_local(2026, 7, 1, 10, 0))
    body = builders.download(event, page_url=PAGE).replace(b"BYMONTH=3", b"BYMONTH=8")
    start, _ = instants_by_vobject(body)[event.uid]
    assert start.astimezone(dt.UTC) != event.starts_at


def test_zone_without_a_yearly_rule_is_written_in_utc_when_out_of_range() -> None:
    tz = ZoneInfo("America/New_York")
    starts_at = dt.datetime(2005, 4, 10, 9, tzinfo=tz).astimezone(dt.UTC)
    event = make_event(
        timezone="America/New_York", starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=1)
    )
    body = builders.download(event, page_url=PAGE)
    assert b"VTIMEZONE" not in body
    assert both_parsers_agree(body)[event.uid][0] == starts_at


def test_all_day_event_is_written_as_dates_with_exclusive_end() -> None:
    event = make_event(
        all_day=True,
        starts_at=_local(2026, 3, 28, 0, 0),
        ends_at=_local(2026, 3, 30, 0, 0),
    )
    body = builders.download(event, page_url=PAGE)
    lines = unfolded_lines(body)
    assert "DTSTART;VALUE=DATE:20260328" in lines
    assert "DTEND;VALUE=DATE:20260330" in lines
    assert both_parsers_agree(body)[event.uid] == (dt.date(2026, 3, 28), dt.date(2026, 3, 30))


def test_all_day_event_ending_mid_day_covers_its_last_day() -> None:
    event = make_event(
        all_day=True, starts_at=_local(2026, 6, 1, 9, 0), ends_at=_local(2026, 6, 3, 17, 0)
    )
    lines = unfolded_lines(builders.download(event, page_url=PAGE))
    assert "DTSTART;VALUE=DATE:20260601" in lines
    assert "DTEND;VALUE=DATE:20260604" in lines


HOSTILE = [
    "Line one\r\nATTENDEE:mailto:evil@example.org",
    "Bare CR\rDESCRIPTION:injected",
    "Commas, semicolons; and back\\slashes",
    "Emoji 🎉📚 in the title",
    "Ünïcödé " * 60,
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_stay_one_property_in_both_parsers(title: str) -> None:
    event = make_event(title=title, description=title, summary=title)
    body = builders.download(event, page_url=PAGE)
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "folded at 75 octets"
    assert b"\n" not in body.replace(b"\r\n", b""), "CRLF only"
    assert body.endswith(b"END:VCALENDAR\r\n")
    body.decode("utf-8")  # no UTF-8 character split by folding
    names = [line.split(":")[0].split(";")[0] for line in unfolded_lines(body) if line]
    assert "ATTENDEE" not in names and names.count("DESCRIPTION") == 1
    cleaned = title.replace("\r\n", "\n").replace("\r", "\n")
    parsed = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(parsed["SUMMARY"]) == cleaned
    assert vobject.readOne(body.decode()).vevent.summary.value == cleaned


def test_feed_has_name_refresh_hint_and_no_private_links() -> None:
    event = make_event()
    body = builders.feed(
        "Workload, pay; and more", [(builders.vevent(event, page_url=PAGE), "Europe/London")]
    )
    lines = unfolded_lines(body)
    assert "X-WR-CALNAME:Workload pay and more" in lines
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    assert lines.count("BEGIN:VTIMEZONE") == 1
    assert b"/j/" not in body and b"ATTENDEE" not in body
    both_parsers_agree(body)


def test_cancelled_event_is_status_cancelled_in_feed() -> None:
    event = make_event(cancelled=True, ical_sequence=3)
    lines = unfolded_lines(builders.vevent(event, page_url=PAGE))
    assert "STATUS:CANCELLED" in lines
    assert "SEQUENCE:3" in lines


def test_cancelled_event_says_so_in_its_title_and_is_not_busy() -> None:
    """Outlook subscriptions ignore STATUS: the title and TRANSP carry the cancellation."""
    for all_day in (False, True):
        event = make_event(cancelled=True, all_day=all_day)
        body = builders.download(event, page_url=PAGE)
        [vevent] = icalendar.Calendar.from_ical(body).walk("VEVENT")
        assert str(vevent["SUMMARY"]) == "Cancelled: Workload webinar"
        assert str(vevent["STATUS"]) == "CANCELLED"
        assert str(vevent["TRANSP"]) == "TRANSPARENT"
        assert str(vevent["DESCRIPTION"]).startswith("This event has been cancelled.")
        instants_by_vobject(body)
        [second] = vobject.readOne(body.decode()).vevent_list
        assert second.summary.value == "Cancelled: Workload webinar"
        assert second.transp.value == "TRANSPARENT"
        assert second.status.value == "CANCELLED"
    going_ahead = icalendar.Calendar.from_ical(builders.download(make_event(), page_url=PAGE))
    [vevent] = going_ahead.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Workload webinar"
    assert str(vevent["TRANSP"]) == "OPAQUE" and str(vevent["STATUS"]) == "CONFIRMED"


def _invite(event: EventView, method: builders.Method, **kwargs: object) -> icalendar.Calendar:
    body = builders.invite(
        event,
        Attendee("Sam Teacher", "sam@example.org"),
        method,
        stamp=kwargs.pop("stamp", STAMP),  # type: ignore[arg-type]
        page_url=PAGE,
        joining_url="https://events.example.org/j/personal-token",
        **kwargs,  # type: ignore[arg-type]
    )
    both_parsers_agree(body)
    return icalendar.Calendar.from_ical(body)


def test_request_invite_has_organizer_accepted_attendee_and_personal_link() -> None:
    calendar = _invite(make_event(), "REQUEST")
    assert str(calendar["METHOD"]) == "REQUEST"
    vevent = calendar.walk("VEVENT")[0]
    assert str(vevent["ORGANIZER"]) == "mailto:events@example.org"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:sam@example.org"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"
    assert "/j/personal-token" in str(vevent["DESCRIPTION"])
    # The management link (it can cancel the place) stays in the email, out of calendars.
    assert "/r/" not in calendar.to_ical().decode()
    assert "meet.example" not in calendar.to_ical().decode()


def test_update_keeps_uid_and_raises_sequence_and_dtstamp() -> None:
    first = _invite(make_event(), "REQUEST").walk("VEVENT")[0]
    moved = make_event(
        ical_sequence=1,
        starts_at=dt.datetime(2026, 3, 31, 17, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 3, 31, 18, tzinfo=dt.UTC),
    )
    later = STAMP + dt.timedelta(days=1)
    second = _invite(moved, "REQUEST", stamp=later).walk("VEVENT")[0]
    assert second["UID"] == first["UID"]
    assert second.decoded("SEQUENCE") == first.decoded("SEQUENCE") + 1
    assert second.decoded("DTSTAMP") > first.decoded("DTSTAMP")


def test_cancel_invite_has_status_cancelled_and_no_joining_link() -> None:
    calendar = _invite(make_event(ical_sequence=2), "CANCEL", sequence=3)
    assert str(calendar["METHOD"]) == "CANCEL"
    vevent = calendar.walk("VEVENT")[0]
    assert str(vevent["STATUS"]) == "CANCELLED"
    # Clients title a CANCEL themselves ("Canceled: ..."): the invite keeps the plain title.
    assert str(vevent["SUMMARY"]) == "Workload webinar"
    assert vevent.decoded("SEQUENCE") == 3
    assert "/j/" not in calendar.to_ical().decode()


def test_uid_is_the_events_stored_uid_whatever_changes() -> None:
    event = make_event()
    changed = dataclasses.replace(event, title="Renamed", slug="renamed", ical_sequence=5)
    body_a, body_b = (builders.download(e, page_url=PAGE) for e in (event, changed))
    assert set(both_parsers_agree(body_a)) == set(both_parsers_agree(body_b)) == {event.uid}
