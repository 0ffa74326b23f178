"""Downloads and feeds through the app: content, conditional GET, privacy, private feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from events.catalog.models import Event
from events.db import unit_of_work
from events.lifecycle import cancel_event
from events.registration.tokens import LinkSet
from tests.calendar.helpers import both_parsers_agree, unfolded_lines
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import latest_token

SECRET_ROOM = "secret-room-123"
ICS = "text/calendar; charset=utf-8"


async def _change(make: Factory, event: Event, **values: object) -> None:
    async with unit_of_work(make.database.writer) as session:
        await session.execute(update(Event).where(Event.id == event.id).values(**values))


async def test_event_download_is_one_public_event_with_its_uid(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Pay briefing")
    response = await client.get(f"/events/{event.slug}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == ICS
    assert f'filename="{event.slug}.ics"' in response.headers["content-disposition"]
    assert both_parsers_agree(response.content) == {event.uid: (event.starts_at, event.ends_at)}
    assert SECRET_ROOM not in response.text and "/j/" not in response.text


async def test_event_download_is_404_for_drafts_and_missing_events(
    client: httpx.AsyncClient, make: Factory
) -> None:
    draft = await make.event(publish=False)
    assert (await client.get(f"/events/{draft.slug}.ics")).status_code == 404
    assert (await client.get("/events/no-such-event.ics")).status_code == 404


async def test_event_page_offers_download_and_add_to_links_beside_its_download(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    page = await client.get(f"/events/{event.slug}")
    assert page.status_code == 200
    assert f'href="/events/{event.slug}.ics"' in page.text
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page.text
    assert "https://outlook.live.com/calendar/0/action/compose" in page.text
    assert SECRET_ROOM not in page.text
    assert page.text.count("<h1") == 1


async def test_listing_and_group_pages_offer_webcal_google_and_outlook_subscriptions(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic()
    series = await make.series()
    campaign = await make.campaign()
    for page, feed in [
        ("/events", "/calendar.ics"),
        (f"/topics/{topic.slug}", f"/topics/{topic.slug}/calendar.ics"),
        (f"/series/{series.slug}", f"/series/{series.slug}/calendar.ics"),
        (f"/campaigns/{campaign.slug}", f"/campaigns/{campaign.slug}/calendar.ics"),
    ]:
        html = (await client.get(page)).text
        assert f'href="webcal://testserver{feed}"' in html, page
        assert f'href="{feed}"' in html
        assert "calendar.google.com/calendar/render?cid=webcal" in html
        assert "outlook.live.com/calendar/0/addfromweb?url=http" in html
        assert html.count("<h1") == 1


async def test_listing_feed_holds_recent_and_future_public_events_only(
    client: httpx.AsyncClient, make: Factory
) -> None:
    now = make.clock.now()
    future = await make.event("Future")
    recent = await make.event("Recent", starts_at=now - dt.timedelta(days=300))
    old = await make.event("Old", starts_at=now - dt.timedelta(days=400))
    draft = await make.event("Draft", publish=False)
    cancelled = await make.event("Called off")
    async with unit_of_work(make.database.writer) as session:
        await cancel_event(session, make.clock, await session.merge(cancelled))
    response = await client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == ICS
    found = both_parsers_agree(response.content)
    assert set(found) == {future.uid, recent.uid, cancelled.uid}
    assert old.uid not in found and draft.uid not in found
    lines = unfolded_lines(response.content)
    assert "STATUS:CANCELLED" in lines
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    assert any(line.startswith("X-WR-CALNAME:") for line in lines)
    assert SECRET_ROOM not in response.text
    assert "ATTENDEE" not in response.text and "/j/" not in response.text


async def test_topic_series_and_campaign_feeds_hold_their_own_events(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("Pay, and; conditions")
    series = await make.series("SEN series")
    campaign = await make.campaign("Day of action")
    in_topic = await make.event(topics=(topic,))
    in_series = await make.event(series=series)
    in_campaign = await make.event(campaign=campaign)
    await make.event("Elsewhere")
    for path, expected in [
        (f"/topics/{topic.slug}/calendar.ics", in_topic),
        (f"/series/{series.slug}/calendar.ics", in_series),
        (f"/campaigns/{campaign.slug}/calendar.ics", in_campaign),
    ]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert set(both_parsers_agree(response.content)) == {expected.uid}
    topic_feed = await client.get(f"/topics/{topic.slug}/calendar.ics")
    assert "X-WR-CALNAME:Union events: Pay and conditions" in unfolded_lines(topic_feed.content)
    assert (await client.get("/topics/nope/calendar.ics")).status_code == 404


async def test_feed_answers_304_on_matching_etag_or_date(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event()
    first = await client.get("/calendar.ics")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    by_tag = await client.get("/calendar.ics", headers={"if-none-match": etag})
    assert by_tag.status_code == 304 and by_tag.content == b""
    assert by_tag.headers["etag"] == etag
    by_date = await client.get("/calendar.ics", headers={"if-modified-since": modified})
    assert by_date.status_code == 304
    other = await client.get("/calendar.ics", headers={"if-none-match": '"other"'})
    assert other.status_code == 200 and other.content == first.content


async def test_feed_is_gzipped_for_clients_that_ask(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event()
    plain = await client.get("/calendar.ics", headers={"accept-encoding": "identity"})
    zipped = await client.get("/calendar.ics", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decodes it


async def test_unchanged_events_are_serialised_once_across_feed_rebuilds(
    client: httpx.AsyncClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from events.calendar import builders

    calls: list[str] = []
    original = builders.vevent

    def counting(event: builders.EventView, **kwargs: Any) -> bytes:
        calls.append(event.uid)
        return original(event, **kwargs)

    monkeypatch.setattr(builders, "vevent", counting)
    first = await make.event("First")
    second = await make.event("Second")
    await client.get("/calendar.ics")
    assert sorted(calls) == sorted([first.uid, second.uid])
    calls.clear()
    await client.get("/calendar.ics")
    assert calls == [], "a warm hit serialises nothing"
    make.clock.advance(dt.timedelta(minutes=1))
    await _change(make, second, title="Second, moved", updated_at=make.clock.now())
    response = await client.get("/calendar.ics")
    assert calls == [second.uid], "only the changed event is serialised again"
    assert "SUMMARY:Second\\, moved" in unfolded_lines(response.content)


async def test_feed_etag_changes_when_an_event_changes(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Before")
    first = await client.get("/calendar.ics")
    make.clock.advance(dt.timedelta(minutes=5))
    await _change(make, event, title="After", updated_at=make.clock.now())
    second = await client.get("/calendar.ics", headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert "SUMMARY:After" in unfolded_lines(second.content)


async def test_feed_etag_changes_when_an_event_leaves_the_window(
    client: httpx.AsyncClient, make: Factory
) -> None:
    now = make.clock.now()
    await make.event("Stays")
    await make.event("Goes", starts_at=now - dt.timedelta(days=364))
    first = await client.get("/calendar.ics")
    make.clock.advance(dt.timedelta(days=2))
    second = await client.get(
        "/calendar.ics", headers={"if-modified-since": first.headers["last-modified"]}
    )
    assert second.status_code == 200
    assert len(both_parsers_agree(second.content)) == 1


async def test_event_download_answers_304_and_changes_with_sequence(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    first = await client.get(f"/events/{event.slug}.ics")
    etag = first.headers["etag"]
    again = await client.get(f"/events/{event.slug}.ics", headers={"if-none-match": etag})
    assert again.status_code == 304
    async with unit_of_work(make.database.writer) as session:
        await cancel_event(session, make.clock, await session.merge(event))
    after = await client.get(f"/events/{event.slug}.ics", headers={"if-none-match": etag})
    assert after.status_code == 200
    lines = unfolded_lines(after.content)
    assert "STATUS:CANCELLED" in lines and "SEQUENCE:1" in lines


async def test_api_ics_url_is_the_events_download(client: httpx.AsyncClient, make: Factory) -> None:
    event = await make.event()
    item = (await client.get(f"/api/v1/events/{event.slug}")).json()
    url = item.get("ics_url") or item["data"]["ics_url"]
    response = await client.get(url)
    assert response.status_code == 200
    assert event.uid in response.text


async def test_private_feed_has_only_own_confirmed_places_with_personal_links(
    client: httpx.AsyncClient, make: Factory
) -> None:
    mine = await make.event("Mine", capacity=1, waiting_list_enabled=True)
    also_mine = await make.event("Also mine")
    waiting = await make.event("Waiting", capacity=1, waiting_list_enabled=True)
    theirs = await make.event("Theirs")
    await register(make, mine, "jo@example.org")
    await register(make, waiting, "first@example.org")
    await register(make, waiting, "jo@example.org")
    await register(make, theirs, "other@example.org")
    await register(make, also_mine, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    token = LinkSet.from_manage(TEST_SIGNER, manage).calendar

    response = await client.get(f"/c/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == ICS
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-robots-tag"] == "noindex"
    assert set(both_parsers_agree(response.content)) == {mine.uid, also_mine.uid}
    assert SECRET_ROOM not in response.text
    text = response.content.replace(b"\r\n ", b"").decode()
    join = f"http://testserver/c/{token}/{mine.id}/join"
    assert join in text
    assert f"http://testserver/events/{mine.slug}" in text
    # The read-only feed never leads to the link that can cancel the place.
    assert manage not in text and "/r/" not in text
    # The management token is not a calendar token.
    assert (await client.get(f"/c/{manage}.ics")).status_code == 404

    early = await client.get(join)
    assert early.status_code == 200 and SECRET_ROOM not in early.text
    make.clock.set(mine.starts_at - dt.timedelta(minutes=5))
    opened = await client.get(join)
    assert opened.status_code == 303 and SECRET_ROOM in opened.headers["location"]


async def test_private_feed_and_join_with_wrong_token_are_the_same_404(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    await register(make, event, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    token = LinkSet.from_manage(TEST_SIGNER, manage).calendar
    wrong = "x" * 43
    missing = await client.get(f"/c/{wrong}.ics")
    malformed = await client.get("/c/nope.ics")
    join = await client.get(f"/c/{wrong}/{event.id}/join")
    other_event = await client.get(f"/c/{token}/{event.id + 999}/join")
    assert {r.status_code for r in (missing, malformed, join, other_event)} == {404}
    assert missing.text == malformed.text == join.text == other_event.text


async def test_management_page_links_to_the_private_feed(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    await register(make, event, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    emailed = await latest_token(make.database, "jo@example.org", key="calendar_token")
    page = await client.get(f"/r/{manage}")
    assert f'href="/c/{emailed}.ics"' in page.text
    assert f'href="webcal://testserver/c/{emailed}.ics"' in page.text
    feed = await client.get(f"/c/{emailed}.ics")
    assert feed.status_code == 200 and event.uid in feed.text
