"""What the app holds for its lifetime, typed, and how a request reaches it.

A room's own long-lived object (the calendar room's feed cache) is kept by type in
``parts``, so this low layer names no room: ``context.part(CalendarCache)`` is typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request

from events.clock import Clock
from events.config import Settings
from events.db import Database
from events.kit.signing import Signer
from events.kit.throttle import RateLimiter
from events.web.cache import CachedResponse, PageCache
from events.web.csrf import Csrf
from events.web.templating import Renderer

T = TypeVar("T")


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock
    signer: Signer
    renderer: Renderer
    cache: PageCache[CachedResponse]
    csrf: Csrf
    rate_limiter: RateLimiter
    parts: dict[type[Any], Any] = field(default_factory=dict)

    def add(self, part: object) -> None:
        self.parts[type(part)] = part

    def part(self, kind: type[T]) -> T:
        found = self.parts[kind]
        assert isinstance(found, kind)
        return found


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
