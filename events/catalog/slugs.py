"""Web addresses: a slug from a title, made unique among a table's rows."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
SLUG_MESSAGE = "Use lower-case letters, numbers and hyphens only, for example send-webinar-3."


def _transliterate(text: str) -> str:
    """Latin letters for any script (anyascii's tables: Welsh ŵ is w, Greek, Cyrillic,
    Arabic...). Wide characters (Chinese, Japanese, Korean) each stand for a syllable or
    a word: they are kept apart, so 教育研讨会 reads jiao-yu-yan-tao-hui."""
    parts: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        latin = anyascii(char)
        if unicodedata.east_asian_width(char) in ("W", "F") and latin.isalnum():
            parts.append(f" {latin} ")
        else:
            parts.append(latin)
    return "".join(parts)


def slugify(text: str, *, max_length: int = 100) -> str:
    """A web address from a title in any script: transliterated to Latin letters, lower
    case, words joined by hyphens. Only a title with no letters or digits at all (such
    as "!!!") falls back to ``event``."""
    slug = re.sub(r"[^a-z0-9]+", "-", _transliterate(text).lower()).strip("-")
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
