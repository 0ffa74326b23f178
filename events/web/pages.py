"""Rendering a page through the per-process page cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from events.web.cache import CachedResponse, cache_key
from events.web.context import app_context
from events.web.uow import unit_of_work

HTML = "text/html; charset=utf-8"
JSON = "application/json"

# Returns the page's HTML, or the HTML and a status (a listing with unreadable filters: 422).
Build = Callable[[AsyncSession, dt.datetime], Awaitable[str | tuple[str, int]]]


def _response(cached: CachedResponse) -> Response:
    return Response(cached.body, status_code=cached.status, media_type=cached.media_type)


async def cached_html(request: Request, build: Build) -> Response:
    """Serve the page for this URL from the cache, building it (in one read-only unit of
    work) when it is missing or older than the cache's time to live. Everything the page
    depends on must come from the URL: the cache key is its path and query."""
    context = app_context(request)

    async def render() -> CachedResponse:
        async with unit_of_work(request) as session:
            page = await build(session, context.clock.now())
        html, status = page if isinstance(page, tuple) else (page, 200)
        return CachedResponse(status, HTML, html.encode())

    return _response(await context.cache.get_or_build(cache_key(request.scope), render))


async def cached_json(request: Request, build: Callable[[], Awaitable[bytes]]) -> Response:
    """This URL's JSON from the cache, or from ``build`` when missing or expired."""

    async def render() -> CachedResponse:
        return CachedResponse(200, JSON, await build())

    cache = app_context(request).cache
    return _response(await cache.get_or_build(cache_key(request.scope), render))
