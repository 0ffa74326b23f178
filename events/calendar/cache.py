"""What this process keeps of calendars, so that no feed is rebuilt per request.

- Each event's serialised VEVENT, keyed by (id, updated_at, ical_sequence): any change to
  the event changes its key, so a kept VEVENT is never stale, and an unchanged event is
  never serialised twice.
- Each feed's bytes with the ETag they were built for, until the feed's ETag inputs change.
- Each feed's ETag inputs (one aggregate query) for at most the page cache's time to live,
  so a warm hit or a 304 costs no query at all. Like the page cache, this is per process.

Feeds are assembled in a worker thread (``run_in_threadpool``): serialising 10,000 events
takes seconds and must not stall the event loop. Concurrent misses for one feed and ETag
wait for a single build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from events.calendar import builders
from events.calendar.service import EventKey, FeedStamp
from events.web.cache import PageCache
from events.web.context import app_context

VEVENT_ENTRIES = 50_000


@dataclass(frozen=True)
class Feed:
    etag: str
    last_modified: dt.datetime
    body: bytes
    # The same bytes gzipped (calendar clients ask for gzip; a 10,000-event feed is ~7 MB).
    gzipped: bytes


class CalendarCache:
    def __init__(self, stamp_ttl: float) -> None:
        # (ETag, Last-Modified inputs, calendar name) per feed key.
        self.stamps: PageCache[tuple[str, FeedStamp, str]] = PageCache(stamp_ttl, max_entries=4096)
        self.feeds: OrderedDict[str, Feed] = OrderedDict()
        self.max_feeds = 512
        self._vevents: OrderedDict[EventKey, tuple[bytes, str | None]] = OrderedDict()
        self._building: dict[tuple[str, str], asyncio.Future[Feed]] = {}

    def vevent(self, key: EventKey) -> tuple[bytes, str | None] | None:
        return self._vevents.get(key)

    def keep_vevent(self, key: EventKey, part: tuple[bytes, str | None]) -> None:
        self._vevents[key] = part
        if len(self._vevents) > VEVENT_ENTRIES:
            self._vevents.popitem(last=False)

    def feed(self, key: str, etag: str) -> Feed | None:
        found = self.feeds.get(key)
        return found if found is not None and found.etag == etag else None

    async def feed_once(self, key: str, etag: str, make: Callable[[], Awaitable[Feed]]) -> Feed:
        """The feed for ``key`` at ``etag``, built once however many requests ask."""
        found = self.feed(key, etag)
        if found is not None:
            return found
        pending = self._building.get((key, etag))
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Feed] = asyncio.get_running_loop().create_future()
        self._building[(key, etag)] = future
        try:
            result = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._building.pop((key, etag), None)
        future.set_result(result)
        self.feeds[key] = result
        self.feeds.move_to_end(key)
        while len(self.feeds) > self.max_feeds:
            self.feeds.popitem(last=False)
        return result


def calendar_cache(request: Request) -> CalendarCache:
    """This app's calendar cache, made on first use (one per app, like its page cache)."""
    state = request.app.state
    cache: CalendarCache | None = getattr(state, "calendar_cache", None)
    if cache is None:
        cache = CalendarCache(app_context(request).settings.page_cache_seconds)
        state.calendar_cache = cache
    return cache


def assemble(
    cache: CalendarCache,
    name: str,
    keys: Sequence[EventKey],
    kept: dict[EventKey, tuple[bytes, str | None]],
    missing: dict[EventKey, tuple[builders.EventView, str]],
) -> tuple[bytes, bytes]:
    """Runs in a worker thread: serialise the events not kept yet, join them all in the
    feed's order (``kept`` is a snapshot taken on the event loop), and gzip the result."""
    parts = dict(kept)
    for key, (event, page_url) in missing.items():
        parts[key] = (builders.vevent(event, page_url=page_url), builders.uses_zone(event))
        cache.keep_vevent(key, parts[key])
    body = builders.feed(name, [parts[key] for key in keys])
    return body, gzip.compress(body, compresslevel=6, mtime=0)
