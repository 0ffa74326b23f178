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
from typing import Generic, TypeVar

T = TypeVar("T")


class PageCache(Generic[T]):
    def __init__(self, ttl: float, *, max_entries: int = 512) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._building: dict[str, asyncio.Future[T]] = {}
        self._generation = 0

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
