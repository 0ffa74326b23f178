"""Demo data (placeholder, filled in by the demo slice)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock


async def seed(session: AsyncSession, clock: Clock, *, zone: str = "Europe/London") -> str:
    return ""
