"""Listing filters and keyset pagination, straight against the queries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import QueryParams

from events.catalog import queries
from events.catalog.models import EventFormat, EventKind
from events.catalog.schemas import ListingFilters, parse_listing
from events.db import unit_of_work
from tests.factories import Factory

LONDON = ZoneInfo("Europe/London")


async def _titles(make: Factory, filters: ListingFilters, per_page: int = 100) -> list[str]:
    async with unit_of_work(make.database.reader) as session:
        page = await queries.event_listing(
            session, filters, now=make.clock.now(), zone=LONDON, per_page=per_page
        )
        return [event.title for event in page.items]


def _filters(query: str) -> ListingFilters:
    return parse_listing(QueryParams(query))


async def test_listing_filters_each_field_and_their_combination(make: Factory) -> None:
    send = await make.topic("SEND")
    pay = await make.topic("Pay")
    now = make.clock.now()
    await make.event("SEND webinar", topics=(send,), access=("live_captions",))
    await make.event(
        "SEND rally in Leeds",
        topics=(send,),
        kind=EventKind.campaign_event,
        format=EventFormat.in_person,
        region="yorkshire-and-the-humber",
        town="Leeds",
        access=("step_free", "bsl"),
    )
    await make.event("Pay briefing", topics=(pay,), kind=EventKind.meeting)
    await make.event("Old SEND webinar", topics=(send,), starts_at=now - dt.timedelta(days=10))
    await make.event("Draft SEND thing", topics=(send,), publish=False)

    assert await _titles(make, _filters("topic=send")) == ["SEND webinar", "SEND rally in Leeds"]
    assert await _titles(make, _filters("kind=meeting")) == ["Pay briefing"]
    assert await _titles(make, _filters("format=in_person")) == ["SEND rally in Leeds"]
    assert await _titles(make, _filters("region=yorkshire-and-the-humber")) == [
        "SEND rally in Leeds"
    ]
    assert await _titles(make, _filters("access=bsl&access=step_free")) == ["SEND rally in Leeds"]
    assert await _titles(make, _filters("access=bsl&access=live_captions")) == []
    assert await _titles(make, _filters("q=leeds")) == ["SEND rally in Leeds"]
    assert await _titles(make, _filters("q=SEND+webinar")) == ["SEND webinar"]
    assert await _titles(make, _filters("topic=send&format=online")) == ["SEND webinar"]
    assert await _titles(make, _filters("past=1")) == ["Old SEND webinar"]
    assert await _titles(make, _filters("past=1&topic=pay")) == []


async def test_search_treats_like_wildcards_as_plain_text(make: Factory) -> None:
    await make.event("100% pay rise now")
    await make.event("Workload survey")
    assert await _titles(make, _filters("q=%25")) == ["100% pay rise now"]
    assert await _titles(make, _filters("q=_")) == []


async def test_date_range_uses_local_days_in_summer_time(make: Factory) -> None:
    # 23:30 BST on 1 June is 22:30 UTC: it belongs to 1 June locally.
    late = dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.UTC)
    # 00:30 BST on 2 June is 23:30 UTC on 1 June: it belongs to 2 June locally.
    early = dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC)
    await make.event("Late on the first", starts_at=late)
    await make.event("Early on the second", starts_at=early)
    assert await _titles(make, _filters("from=2026-06-01&to=2026-06-01")) == ["Late on the first"]
    assert await _titles(make, _filters("from=2026-06-02")) == ["Early on the second"]
    assert await _titles(make, _filters("to=2026-06-01")) == ["Late on the first"]


async def test_pagination_walks_forward_and_back_without_gaps_or_repeats(make: Factory) -> None:
    base = make.clock.now() + dt.timedelta(days=1)
    for i in range(23):
        # Several share a start time: the id breaks the tie, so order stays stable.
        await make.event(f"E{i:02d}", starts_at=base + dt.timedelta(hours=i // 3))
    seen: list[str] = []
    filters = _filters("")
    pages: list[list[str]] = []
    async with unit_of_work(make.database.reader) as session:
        while True:
            page = await queries.event_listing(
                session, filters, now=make.clock.now(), zone=LONDON, per_page=5
            )
            assert page.total == 23
            pages.append([e.title for e in page.items])
            seen.extend(e.title for e in page.items)
            if page.next_cursor is None:
                break
            filters = ListingFilters(after=page.next_cursor)
        assert seen == [f"E{i:02d}" for i in range(23)]
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
        # And back again from the last page.
        back: list[list[str]] = []
        prev = page.prev_cursor
        while prev is not None:
            page = await queries.event_listing(
                session, ListingFilters(before=prev), now=make.clock.now(), zone=LONDON, per_page=5
            )
            back.append([e.title for e in page.items])
            prev = page.prev_cursor
        assert back == list(reversed(pages[:-1]))


async def test_past_events_page_latest_first(make: Factory) -> None:
    now = make.clock.now()
    for days in (3, 1, 2):
        await make.event(f"{days} days ago", starts_at=now - dt.timedelta(days=days))
    assert await _titles(make, _filters("past=1"), per_page=2) == ["1 days ago", "2 days ago"]
    async with unit_of_work(make.database.reader) as session:
        first = await queries.event_listing(
            session, _filters("past=1"), now=now, zone=LONDON, per_page=2
        )
        assert first.next_cursor is not None
        second = await queries.event_listing(
            session,
            ListingFilters(past=True, after=first.next_cursor),
            now=now,
            zone=LONDON,
            per_page=2,
        )
    assert [e.title for e in second.items] == ["3 days ago"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=party", "kind"),
        ("format=hologram", "format"),
        ("from=10/03/2026", "from"),
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("after=!!!", "after"),
        ("per_page=0", "per_page"),
        ("per_page=1000", "per_page"),
        ("topic=<script>", "topic"),
        ("past=maybe", "past"),
    ],
)
def test_listing_filters_name_the_field_that_could_not_be_read(query: str, field: str) -> None:
    from events.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        parse_listing(QueryParams(query))
    assert field in caught.value.fields


def test_search_text_loses_control_characters_and_surrogates() -> None:
    filters = parse_listing(QueryParams([("q", "send\x00 \ud800rally\x1b  ")]))
    assert filters.q == "send rally"


def test_filters_round_trip_through_the_query_string() -> None:
    query = (
        "q=send&topic=send&kind=webinar&format=online&region=london"
        "&from=2026-03-01&to=2026-04-01&access=bsl&access=live_captions&past=1"
    )
    filters = _filters(query)
    assert _filters(filters.query_string()) == filters
