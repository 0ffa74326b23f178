"""A unit of work per request: one transaction, committed before the response exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from events import db
from events.web.context import app_context


@asynccontextmanager
async def unit_of_work(request: Request, *, write: bool = False) -> AsyncIterator[AsyncSession]:
    """Read-only by default; ``write=True`` for work that changes rows. A change clears this
    process's page cache once it is committed."""
    context = app_context(request)
    sessionmaker = context.database.writer if write else context.database.reader
    async with db.unit_of_work(sessionmaker) as session:
        yield session
    if write:
        context.cache.clear()
