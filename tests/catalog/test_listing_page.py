"""The listing page as a member meets it: filters in the URL, pages, empty results."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from tests.factories import Factory


async def test_listing_keeps_filters_in_the_form_and_the_page_links(
    client: httpx.AsyncClient, make: Factory
) -> None:
    send = await make.topic("SEND")
    base = make.clock.now() + dt.timedelta(days=1)
    for i in range(5):
        await make.event(f"SEND {i}", topics=(send,), starts_at=base + dt.timedelta(hours=i))
    response = await client.get("/events?topic=send&q=SEND&per_page=2")
    html = response.text
    assert response.status_code == 200
    assert '<option value="send" selected>' in html
    assert 'value="SEND"' in html
    assert "5 events match your filters" in html
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert "topic=send" in href and "q=SEND" in href and "after=" in href
    second = await client.get(href)
    assert "SEND 2" in second.text and "SEND 0" not in second.text
    assert 'rel="prev"' in second.text


async def test_empty_listing_says_so_and_offers_to_clear(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Something")
    html = (await client.get("/events?q=zebra")).text
    assert "No upcoming events match these filters." in html
    assert 'href="/events">Clear all filters' in html


async def test_bad_filter_is_named_and_the_rest_still_apply(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Visible webinar")
    response = await client.get("/events?kind=party&q=visible")
    assert response.status_code == 422
    assert "Kind must be one of" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Visible webinar" in response.text


async def test_hostile_search_text_is_shown_escaped(
    client: httpx.AsyncClient, make: Factory
) -> None:
    html = (await client.get('/events?q=<script>alert(1)</script>"')).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


async def test_the_date_hint_gives_an_example_two_weeks_ahead_of_today(
    client: httpx.AsyncClient, make: Factory
) -> None:
    for now, example in [
        (dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), "2026-03-16"),
        # Late on 31 December in London is still that day there; BST in summer moves it.
        (dt.datetime(2027, 12, 31, 23, 30, tzinfo=dt.UTC), "2028-01-14"),
        (dt.datetime(2027, 6, 30, 23, 30, tzinfo=dt.UTC), "2027-07-15"),
    ]:
        make.clock.set(now)
        html = (await client.get("/events")).text
        hint = re.search(r'<span class="hint" id="from-hint">\(for example ([^)]*)\)', html)
        assert hint is not None and hint.group(1) == example, (now, hint)
