"""A small per-process cache of rendered pages, with a short time to live.

Rendering a listing of 50 events through the ORM and Jinja2 costs tens of milliseconds;
serving the same bytes again costs microseconds. Entries live at most ``ttl`` seconds (one
by default), so a page never shows places-left staler than that, and a change made in this
process clears the cache at once. It is per process by design (SPEC, Scale): another
process's cache expires on its own within the same second. Concurrent misses for one key
wait for a single build instead of each rendering the page.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")


@dataclass(frozen=True)
class CachedResponse:
    """A whole response, as the cache keeps it: identical for every visitor."""

    status: int
    media_type: str
    body: bytes


def cache_key(scope: Scope) -> str:
    """The cache key of a request: its path and raw query string (read from the ASGI scope:
    building ``request.url`` on every hit costs more than the lookup itself)."""
    return f"{scope['path']}?{scope['query_string'].decode('latin-1')}"


class PageCache(Generic[T]):
    def __init__(self, ttl: float, *, max_entries: int = 512) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._building: dict[str, asyncio.Future[T]] = {}
        self._generation = 0

    def peek(self, key: str) -> T | None:
        """The fresh entry for ``key``, or None; never builds."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    async def get_or_build(self, key: str, build: Callable[[], Awaitable[T]]) -> T:
        if self.ttl <= 0:
            return await build()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        pending = self._building.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        generation = self._generation
        try:
            value = await build()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) get it re-raised
            raise
        finally:
            self._building.pop(key, None)
        future.set_result(value)
        # A clear() during the build means the value may predate a change: do not keep it.
        if generation == self._generation:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


class CachedPages:
    """Answers a GET for a page that is in the cache before routing, parsing or any view
    code runs. Only views put pages in the cache (through ``web/pages.py``), keyed by exactly
    what this looks up, so a hit here is byte for byte what the view would have returned.
    Installed inside the CSRF and security-header middleware, which still apply."""

    def __init__(self, app: ASGIApp, *, cache: PageCache[CachedResponse]) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            hit = self.cache.peek(cache_key(scope))
            if hit is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": hit.status,
                        "headers": [
                            (b"content-type", hit.media_type.encode("latin-1")),
                            (b"content-length", str(len(hit.body)).encode("latin-1")),
                        ],
                    }
                )
                body = b"" if scope["method"] == "HEAD" else hit.body
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
