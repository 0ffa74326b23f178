"""The public notices' pages: the privacy notice and the accessibility statement, the same
for every visitor and cached like the other public pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from events.privacy import notices
from events.web.context import app_context
from events.web.pages import cached_html


async def _notice_page(request: Request, notice: notices.Notice) -> Response:
    context = app_context(request)

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        text = await notices.current(session, notice, notices.Retention.of(context.settings))
        return context.renderer.render("privacy/notice.html", notice=text, title=notice.heading)

    return await cached_html(request, build)


async def privacy_notice(request: Request) -> Response:
    return await _notice_page(request, notices.Notice.privacy)


async def accessibility(request: Request) -> Response:
    return await _notice_page(request, notices.Notice.accessibility)
