"""Feeds answered from what the process keeps: before routing, with the same validators and
negotiation as the view, and never after a change committed here; and a reschedule reaching
every feed with its new times, a higher SEQUENCE and a new ETag."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from events.app import create_app
from events.audit.service import SYSTEM
from events.catalog.fields import EventInput
from events.catalog.lifecycle import event_with_details
from events.catalog.models import Event
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.lifecycle import update_event
from events.registration.tokens import LinkSet
from tests.calendar.helpers import both_parsers_agree, unfolded_lines
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import latest_token

FEED = "/calendar.ics"


@pytest.fixture
def kept_app(settings: Settings, clock: FrozenClock, database: Database) -> Starlette:
    """The app as deployed: stamps (and so the fast path) kept for a while."""
    kept = settings.model_copy(update={"page_cache_seconds": 60})
    return create_app(kept, clock=clock, database=database)


@pytest.fixture
async def kept_client(kept_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=kept_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


PLAIN = {"accept-encoding": "identity"}


async def test_kept_feed_answers_hits_head_and_304_before_routing(
    kept_app: Starlette, kept_client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Kept")
    first = await kept_client.get(FEED, headers=PLAIN)
    assert first.status_code == 200
    # With no routes at all, only the fast path can still answer.
    kept_app.router.routes.clear()
    hit = await kept_client.get(FEED, headers=PLAIN)
    assert hit.status_code == 200 and hit.content == first.content
    for name in ("etag", "last-modified", "content-type", "content-length", "cache-control"):
        assert hit.headers[name] == first.headers[name], name
    assert hit.headers["x-content-type-options"] == "nosniff", "security headers still apply"
    assert event.uid in hit.text
    not_modified = await kept_client.get(
        FEED, headers={**PLAIN, "if-none-match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == first.headers["etag"]
    head = await kept_client.head(FEED, headers=PLAIN)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert (await kept_client.get("/topics/any/calendar.ics")).status_code == 404


@pytest.mark.parametrize("warm", [False, True], ids=["view", "kept"])
async def test_validators_and_gzip_negotiation_are_the_same_from_view_and_kept(
    client: httpx.AsyncClient, kept_client: httpx.AsyncClient, make: Factory, warm: bool
) -> None:
    await make.event()
    http = kept_client if warm else client
    plain = await http.get(FEED, headers=PLAIN)
    etag, modified = plain.headers["etag"], plain.headers["last-modified"]
    assert plain.headers["vary"] == "Accept-Encoding"

    async def status(**headers: str) -> int:
        return (await http.get(FEED, headers={**PLAIN, **headers})).status_code

    assert await status(**{"if-none-match": f'"nope", {etag}'}) == 304
    assert await status(**{"if-none-match": f"W/{etag}"}) == 304
    assert await status(**{"if-none-match": "*"}) == 304
    assert await status(**{"if-none-match": '"nope"'}) == 200
    assert await status(**{"if-modified-since": modified}) == 304
    earlier = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert await status(**{"if-modified-since": earlier}) == 200
    assert await status(**{"if-modified-since": "yesterday"}) == 200
    # If-None-Match decides when present, whatever If-Modified-Since says.
    assert await status(**{"if-none-match": '"nope"', "if-modified-since": modified}) == 200

    for accept, zipped in [
        ("gzip", True),
        ("deflate, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("br", False),
    ]:
        response = await http.get(FEED, headers={"accept-encoding": accept})
        assert ("content-encoding" in response.headers) is zipped, accept
        assert response.content == plain.content, accept  # httpx decodes gzip
        # Each representation has its own strong ETag (the gzipped one's says so).
        assert response.headers["etag"] == (etag[:-1] + '-gzip"' if zipped else etag), accept

    head = await http.head(FEED, headers=PLAIN)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(plain.content))


async def test_a_change_committed_in_this_process_ends_the_kept_feed_at_once(
    kept_app: Starlette, kept_client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Before")
    first = await kept_client.get(FEED)
    make.clock.advance(dt.timedelta(minutes=1))
    await _reschedule(make, event, dt.timedelta(hours=2), title="After")
    # What web/uow.py does after every committed write unit of work.
    kept_app.state.context.cache.clear()
    second = await kept_client.get(FEED, headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert "SUMMARY:After" in unfolded_lines(second.content)


async def _reschedule(make: Factory, event: Event, by: dt.timedelta, **changes: object) -> Event:
    """A reschedule through the catalogue service, as the console makes it."""
    async with unit_of_work(make.database.writer) as session:
        current = await event_with_details(session, event.id)
        data = EventInput(
            title=current.title,
            kind=current.kind,
            format=current.format,
            starts_at=current.starts_at + by,
            ends_at=current.ends_at + by,
            timezone=current.timezone,
            summary=current.summary,
            description=current.description,
            joining_url=current.joining_url,
            capacity=current.capacity,
            waiting_list_enabled=current.waiting_list_enabled,
            organiser_name=current.organiser_name,
            organiser_email=current.organiser_email,
            topics=tuple(t.slug for t in current.topics),
            reminder_offsets=tuple(current.reminder_offsets),
        )
        data = dataclasses.replace(data, **changes)  # type: ignore[arg-type]
        change = await update_event(
            session, make.clock, event=current, data=data, actor=SYSTEM, signer=TEST_SIGNER
        )
        return change.event


def _sequence(body: bytes) -> int:
    lines = [line for line in unfolded_lines(body) if line.startswith("SEQUENCE:")]
    assert len(lines) == 1
    return int(lines[0].split(":", 1)[1])


async def test_a_rescheduled_event_reaches_every_feed_with_new_times_and_sequence(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("Pay")
    event = await make.event("Moving", topics=(topic,))
    await register(make, event, "jo@example.org")
    calendar = LinkSet.from_manage(
        TEST_SIGNER, await latest_token(make.database, "jo@example.org")
    ).calendar
    paths = [
        FEED,
        f"/topics/{topic.slug}/calendar.ics",
        f"/events/{event.slug}.ics",
        f"/c/{calendar}.ics",
    ]
    before = {path: await client.get(path) for path in paths}
    for path, response in before.items():
        assert both_parsers_agree(response.content) == {
            event.uid: (event.starts_at, event.ends_at)
        }, path
        assert _sequence(response.content) == 0, path

    make.clock.advance(dt.timedelta(minutes=10))
    moved = await _reschedule(make, event, dt.timedelta(days=1, hours=3))
    assert moved.ical_sequence == 1

    for path, old in before.items():
        headers = {"if-none-match": old.headers["etag"]} if "etag" in old.headers else {}
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert both_parsers_agree(response.content) == {
            event.uid: (
                event.starts_at + dt.timedelta(days=1, hours=3),
                event.ends_at + dt.timedelta(days=1, hours=3),
            )
        }, path
        assert _sequence(response.content) == 1, path
        if "etag" in old.headers:
            assert response.headers["etag"] != old.headers["etag"], path
            if "last-modified" in old.headers:
                assert response.headers["last-modified"] != old.headers["last-modified"], path


async def test_concurrent_first_requests_share_one_build(
    client: httpx.AsyncClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from events.calendar import builders

    calls: list[str] = []
    original = builders.vevent

    def counting(event: builders.EventView, **kwargs: Any) -> bytes:
        calls.append(event.uid)
        return original(event, **kwargs)

    monkeypatch.setattr(builders, "vevent", counting)
    events = [await make.event(f"Event {n}") for n in range(5)]
    answers = await asyncio.gather(*(client.get(FEED, headers=PLAIN) for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    # Ten requests, one build: each event serialised once (ten builds would be 50 calls).
    assert sorted(calls) == sorted(e.uid for e in events)
