"""Rendering a page through the per-process page cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse

from events.web.context import app_context
from events.web.uow import unit_of_work

Build = Callable[[AsyncSession, dt.datetime], Awaitable[str]]  # returns the page's HTML


async def cached_html(request: Request, build: Build, *, status_code: int = 200) -> HTMLResponse:
    """Serve the page for this URL from the cache, building it (in one read-only unit of
    work) when it is missing or older than the cache's time to live."""
    context = app_context(request)
    key = f"{request.url.path}?{request.url.query}"

    async def render() -> bytes:
        async with unit_of_work(request) as session:
            html = await build(session, context.clock.now())
        return html.encode()

    html = await context.cache.get_or_build(key, render)
    return HTMLResponse(html, status_code=status_code)
