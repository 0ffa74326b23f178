"""Web addresses: a slug from a title, made unique among a table's rows."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
SLUG_MESSAGE = "Use lower-case letters, numbers and hyphens only, for example send-webinar-3."


def slugify(text: str, *, max_length: int = 100) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "event"


async def unique_slug(session: AsyncSession, model: type, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever no row of ``model`` has yet."""
    column = model.slug  # type: ignore[attr-defined]
    taken = set(
        (await session.execute(select(column).where(column.like(f"{base}%")))).scalars().all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
