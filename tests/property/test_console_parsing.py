"""Property-based tests (Hypothesis) of the organiser console's parsing: the event form, the
registrations list's query, and attendance reports. Whatever arrives, the result is clean
values or field errors (``InvalidInput`` for a file), never an exception of another kind."""

from __future__ import annotations

import datetime as dt

from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from starlette.datastructures import ImmutableMultiDict

from events.errors import InvalidInput
from events.organiser.attendance import ListingFilters, parse_report
from events.organiser.event_forms import LIST_FIELDS, TEXT_FIELDS, parse_event_form

hostile = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None), max_size=30),
    st.sampled_from(
        ["", "2027-03-28", "2027-10-31", "01:30", "25:99", "0", "-1", "99999999999999",
         "https://meet.example.org/x", "http://insecure.example", "Europe/London",
         "Mars/Olympus", "webinar", "online", "10080", "=cmd()", "\x00", "a\r\nb"]
    ),
)  # fmt: skip
# Plausible values for the fields that need them, so valid events are generated too.
plausible = {
    "title": st.sampled_from(["SEND webinar", "Funding briefing"]),
    "kind": st.sampled_from(["webinar", "meeting", "training"]),
    "format": st.sampled_from(["online", "in_person", "hybrid"]),
    "start_date": st.sampled_from(["2027-03-28", "2027-06-01", "2027-10-31"]),
    "end_date": st.sampled_from(["2027-03-28", "2027-06-01", "2027-10-31"]),
    "start_time": st.sampled_from(["00:30", "01:30", "09:00", "23:30"]),
    "end_time": st.sampled_from(["01:00", "02:30", "10:00", "23:59"]),
}


@st.composite
def event_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Mostly plausible forms (so that valid events come out too), each field hostile now
    and then, the optional ones present or not."""
    items: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        if name in plausible:
            hostile_now = draw(st.integers(0, 9)) == 0
            items.append((name, draw(hostile if hostile_now else plausible[name])))
        elif draw(st.integers(0, 4)) == 0:
            items.append((name, draw(hostile)))
    for name in ("all_day", "waiting_list_enabled", "members_only"):
        if draw(st.booleans()):
            items.append((name, "on"))
    for name in LIST_FIELDS:
        if draw(st.integers(0, 3)) == 0:
            items += [(name, v) for v in draw(st.lists(hostile, min_size=1, max_size=2))]
    return items


@settings(max_examples=400, deadline=None)
@given(items=event_forms())
def test_the_event_form_gives_an_event_or_field_errors(items: list[tuple[str, str]]) -> None:
    form = parse_event_form(ImmutableMultiDict(items))
    if form.errors:
        assert form.data is None or form.errors
        assert all(isinstance(m, str) and m for m in form.errors.values())
        return
    data = form.data
    assert data is not None
    event("valid event")
    assert data.starts_at.tzinfo is not None and data.ends_at > data.starts_at
    assert data.capacity is None or data.capacity >= 0
    assert data.joining_url == "" or data.joining_url.startswith("https://")
    assert all(isinstance(o, int) and o > 0 for o in data.reminder_offsets)
    # Times survive the round trip through the event's zone.
    assert data.starts_at.astimezone(dt.UTC).tzinfo is dt.UTC


@settings(max_examples=300, deadline=None)
@example(query={"q": "a\udcffb", "page": "\u00b2"})  # a lone surrogate; a digit int() refuses
@given(
    query=st.dictionaries(
        st.sampled_from(["q", "status", "attended", "sort", "page", "x"]), hostile
    )
)
def test_the_registrations_list_query_always_parses(query: dict[str, str]) -> None:
    filters = ListingFilters.parse(query)
    assert filters.page >= 1 and len(filters.search) <= 200
    again = ListingFilters.parse(dict(_pairs(filters.query_string())))
    assert again == filters


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query)


reports = st.one_of(
    st.binary(max_size=600),
    st.lists(st.lists(st.one_of(hostile, st.emails().map(str)), max_size=5), max_size=8).map(
        lambda rows: "\n".join(",".join(r) for r in [["Name", "User Email", "Join Time"], *rows])
    ),
).map(lambda v: v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(reports, reports.map(lambda b: b.decode("utf-8", "replace").encode("utf-16")))
)
def test_an_attendance_report_gives_rows_or_a_file_error(data: bytes) -> None:
    try:
        rows, malformed = parse_report(data)
    except InvalidInput as exc:
        assert set(exc.fields) == {"file"}
        return
    for row in rows:
        assert "@" in row.email and row.email == row.email.strip().lower()
        assert len(row.name) <= 200
    assert all(m.line >= 1 and m.reason for m in malformed)
