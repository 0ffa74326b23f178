"""What this process keeps of calendars, so that no feed is rebuilt per request, and the
fast path that answers a kept feed before routing.

- Each event's serialised VEVENT, keyed by (id, updated_at, ical_sequence): any change to
  the event changes its key, so a kept VEVENT is never stale, and an unchanged event is
  never serialised twice.
- Each feed's bytes (plain and gzipped, each with its own strong ETag: the gzipped one's is
  the plain one's with ``-gzip``) with the ETag they were built for, until the feed's ETag
  inputs change.
- Each feed's ETag inputs (one aggregate query) for at most the page cache's time to live.
  While they are fresh, ``KeptFeeds`` answers a feed hit or a ``304`` for that path from
  headers encoded once, before routing, view or session code runs. A change committed in
  this process (the page cache's generation moves on) ends that at once; another process's
  change is seen within the time to live, as for pages (per process by design).

Feeds are assembled in a worker thread (``run_in_threadpool``): serialising 10,000 events
takes seconds and must not stall the event loop. Concurrent misses for one feed and ETag
wait for a single build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from events.calendar import builders
from events.calendar.service import EventKey, FeedStamp
from events.catalog.models import Event
from events.web.cache import CachedResponse, PageCache
from events.web.context import app_context

VEVENT_ENTRIES = 50_000
ICS = b"text/calendar; charset=utf-8"
PUBLIC_CACHE = b"public, max-age=300"
Headers = list[tuple[bytes, bytes]]


def http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


@dataclass(frozen=True)
class Conditions:
    """What a request says about the copy it holds and the encodings it takes."""

    if_none_match: bytes | None = None
    if_modified_since: bytes | None = None
    accept_encoding: bytes = b""

    @classmethod
    def of(cls, raw_headers: Iterable[tuple[bytes, bytes]]) -> Conditions:
        none_match: list[bytes] = []
        since: bytes | None = None
        encodings: list[bytes] = []
        for name, value in raw_headers:
            if name == b"if-none-match":
                none_match.append(value)  # repeated headers are one comma-separated list
            elif name == b"if-modified-since":
                since = value
            elif name == b"accept-encoding":
                encodings.append(value)
        return cls(b",".join(none_match) if none_match else None, since, b",".join(encodings))

    def not_modified(self, etag: bytes, last_modified: bytes, changed: dt.datetime) -> bool:
        """RFC 9110 13.1: If-None-Match (weak comparison, lists, ``*``) decides when present,
        else If-Modified-Since (an unreadable date is ignored)."""
        if self.if_none_match is not None:
            return _matches(self.if_none_match, etag)
        if self.if_modified_since is None:
            return False
        if self.if_modified_since == last_modified:
            return True
        since = _http_moment(self.if_modified_since)
        if since is None:
            return False
        return changed.replace(microsecond=0) <= since

    def gzip(self) -> bool:
        return _takes_gzip(self.accept_encoding)


@lru_cache(maxsize=1024)
def _matches(if_none_match: bytes, etag: bytes) -> bool:
    opaque = etag.removeprefix(b"W/")
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == opaque:
            return True
    return False


@lru_cache(maxsize=256)
def _http_moment(value: bytes) -> dt.datetime | None:
    try:
        moment = parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=256)
def _takes_gzip(accept_encoding: bytes) -> bool:
    """RFC 9110 12.5.3: gzip (or x-gzip) listed with a non-zero q, or ``*`` with a non-zero
    q when gzip is not listed."""
    qualities: dict[bytes, float] = {}
    for item in accept_encoding.lower().split(b","):
        coding, _, params = item.partition(b";")
        quality = 1.0
        for param in params.split(b";"):
            key, _, value = param.strip().partition(b"=")
            if key == b"q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities.setdefault(coding.strip(), quality)
    for name in (b"gzip", b"x-gzip"):
        if name in qualities:
            return qualities[name] > 0
    return qualities.get(b"*", 0.0) > 0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Headers
    body: bytes


def gzip_etag(etag: str) -> str:
    """The gzip representation's own strong ETag: RFC 9110 8.8.3 makes a strong validator
    unique to one representation, and a cache holding both under one tag could hand a
    client that cannot read gzip the gzipped bytes after a 304."""
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


PRIVATE_CACHE = b"private, no-cache"


def private_answer(body: bytes, conditions: Conditions, extra: Headers) -> Answer:
    """A private feed's answer (issue 13 item 8). Calendar apps poll it every hour, so it
    answers ``If-None-Match`` with a 304, but nothing of it is kept here and no shared cache
    may keep it: ``private`` keeps it to the person's own client, ``no-cache`` makes that
    client revalidate each time.

    - The strong ETag is the digest of the calendar's bytes, which are built per request
      (a person's few places): it changes exactly when what they would download does. The
      gzip representation has its own tag (``gzip_etag``), as for public feeds.
    - No Last-Modified: the feed changes when a place is cancelled, an event leaves the
      window or the link's registration is erased, with no one date that says so honestly;
      calendar clients revalidate with the ETag. ``If-Modified-Since`` is therefore ignored.
    - ``Vary: Accept-Encoding``: the client's own cache must not answer one encoding with
      the other."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    zipped = conditions.gzip()
    tag = (gzip_etag(etag) if zipped else etag).encode("latin-1")
    validators: Headers = [
        (b"etag", tag),
        (b"cache-control", PRIVATE_CACHE),
        (b"vary", b"Accept-Encoding"),
        *extra,
    ]
    if conditions.if_none_match is not None and _matches(conditions.if_none_match, tag):
        return Answer(304, validators, b"")
    content = gzip.compress(body, compresslevel=6, mtime=0) if zipped else body
    coding: Headers = [(b"content-encoding", b"gzip")] if zipped else []
    headers: Headers = [
        (b"content-type", ICS),
        (b"content-length", str(len(content)).encode()),
        *coding,
        *validators,
    ]
    return Answer(200, headers, content)


@dataclass(frozen=True)
class Representation:
    """One encoding of a feed: its ETag, and its 200 and 304 headers encoded once."""

    etag: bytes
    headers: Headers
    not_modified_headers: Headers


@dataclass(frozen=True)
class Feed:
    """A feed's bytes and its answers' headers, encoded once when it is built. The plain
    and the gzipped bytes are two representations, each with its own ETag."""

    etag: str
    last_modified: dt.datetime
    body: bytes
    # The same bytes gzipped (calendar clients ask for gzip; a 10,000-event feed is ~7 MB).
    gzipped: bytes
    last_modified_header: bytes = b""
    plain: Representation = Representation(b"", [], [])
    zipped: Representation = Representation(b"", [], [])

    @classmethod
    def of(cls, etag: str, last_modified: dt.datetime, body: bytes, gzipped: bytes) -> Feed:
        last_modified_header = http_date(last_modified).encode("latin-1")

        def representation(tag: str, content: bytes, coding: Headers) -> Representation:
            validators: Headers = [
                (b"etag", tag.encode("latin-1")),
                (b"last-modified", last_modified_header),
                (b"cache-control", PUBLIC_CACHE),
                (b"vary", b"Accept-Encoding"),
            ]
            full = [
                (b"content-type", ICS),
                (b"content-length", str(len(content)).encode()),
                *coding,
                *validators,
            ]
            return Representation(tag.encode("latin-1"), full, validators)

        return cls(
            etag,
            last_modified,
            body,
            gzipped,
            last_modified_header,
            representation(etag, body, []),
            representation(gzip_etag(etag), gzipped, [(b"content-encoding", b"gzip")]),
        )

    def answer(self, conditions: Conditions) -> Answer:
        """Negotiate the encoding first, then validate against that representation's own
        ETag: a tag of the other one does not match."""
        zipped = conditions.gzip()
        chosen = self.zipped if zipped else self.plain
        if conditions.not_modified(chosen.etag, self.last_modified_header, self.last_modified):
            return Answer(304, chosen.not_modified_headers, b"")
        return Answer(200, chosen.headers, self.gzipped if zipped else self.body)


@dataclass(frozen=True)
class Kept:
    """A feed the fast path may answer for a path, until ``expires`` or a change here."""

    feed: Feed
    expires: float
    generation: int


@dataclass(frozen=True)
class Stamp:
    etag: str
    found: FeedStamp
    name: str
    taken: float  # time.monotonic() when the stamp query ran


class CalendarCache:
    def __init__(self, stamp_ttl: float, pages: PageCache[CachedResponse] | None = None) -> None:
        self.ttl = stamp_ttl
        self.pages = pages
        # ETag inputs per feed key and page-cache generation.
        self.stamps: PageCache[Stamp] = PageCache(stamp_ttl, max_entries=4096)
        self.feeds: OrderedDict[str, Feed] = OrderedDict()
        self.max_feeds = 512
        # Path -> feed, for the fast path.
        self.kept: dict[str, Kept] = {}
        self._vevents: OrderedDict[EventKey, tuple[bytes, str | None]] = OrderedDict()
        self._building: dict[tuple[str, str], asyncio.Future[Feed]] = {}

    def generation(self) -> int:
        """Moves on whenever this process commits a change (``web/uow.py`` clears the page
        cache then)."""
        return self.pages._generation if self.pages is not None else 0

    def vevent(self, key: EventKey) -> tuple[bytes, str | None] | None:
        return self._vevents.get(key)

    def keep_vevent(self, key: EventKey, part: tuple[bytes, str | None]) -> None:
        self._vevents[key] = part
        if len(self._vevents) > VEVENT_ENTRIES:
            self._vevents.popitem(last=False)

    def feed(self, key: str, etag: str) -> Feed | None:
        found = self.feeds.get(key)
        return found if found is not None and found.etag == etag else None

    def keep_for_path(self, path: str, feed: Feed, stamp: Stamp, generation: int) -> None:
        """Let the fast path answer ``path`` from ``feed`` for as long as ``stamp`` is fresh."""
        if self.ttl <= 0:
            return
        if len(self.kept) >= 4 * self.max_feeds and path not in self.kept:
            self.kept.clear()
        self.kept[path] = Kept(feed, stamp.taken + self.ttl, generation)

    def kept_for_path(self, path: str) -> Feed | None:
        kept = self.kept.get(path)
        if kept is None or kept.expires <= time.monotonic():
            return None
        if kept.generation != self.generation():
            return None
        return kept.feed

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
    """This app's calendar cache (one per app, like its page cache; see ``app.py``)."""
    return app_context(request).part(CalendarCache)


async def send_answer(answer: Answer, scope: Scope, send: Send) -> None:
    start = {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
    await send(start)
    body = b"" if scope["method"] == "HEAD" else answer.body
    await send({"type": "http.response.body", "body": body})


class KeptFeeds:
    """Answers a GET or HEAD for a feed whose ETag inputs are still fresh before routing,
    parsing or any view code runs: the same ``Feed.answer`` the view gives, byte for byte.
    Installed inside the CSRF and security-header middleware, which still apply."""

    def __init__(self, app: ASGIApp, *, cache: CalendarCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            feed = self.cache.kept_for_path(scope["path"])
            if feed is not None:
                await send_answer(feed.answer(Conditions.of(scope["headers"])), scope, send)
                return
        await self.app(scope, receive, send)


def assemble(
    cache: CalendarCache,
    name: str,
    keys: Sequence[EventKey],
    kept: dict[EventKey, tuple[bytes, str | None]],
    missing: Sequence[tuple[EventKey, Event]],
    page_url_prefix: str,
) -> tuple[bytes, bytes]:
    """Runs in a worker thread: serialise the events not kept yet (rows already loaded,
    read by this thread only), join them all in the feed's order (``kept`` is a snapshot
    taken on the event loop), and gzip the result."""
    parts = dict(kept)
    for key, row in missing:
        event = builders.EventView.from_event(row)
        page_url = page_url_prefix + quote(event.slug)
        parts[key] = (builders.vevent(event, page_url=page_url), builders.uses_zone(event))
        cache.keep_vevent(key, parts[key])
    body = builders.feed(name, [parts[key] for key in keys])
    return body, gzip.compress(body, compresslevel=9, mtime=0)
