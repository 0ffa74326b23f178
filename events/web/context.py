"""What the app holds for its lifetime, typed, and how a request reaches it."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from events.clock import Clock
from events.config import Settings
from events.db import Database
from events.web.cache import CachedResponse, PageCache
from events.web.templating import Renderer


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock
    renderer: Renderer
    cache: PageCache[CachedResponse]


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
