"""The public notices: the privacy notice and the accessibility statement.

Each is Markdown an admin edits in the console, shown on its public page through
``kit.markdown.markdown_html`` (sanitised: raw HTML stays text, ``javascript:`` links are
dropped). Until an admin saves one, the default text shipped in ``templates/notices`` is
shown, with the retention periods of this installation's settings filled in. Every save
writes an audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import string
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit import service as audit
from events.clock import Clock
from events.config import Settings
from events.errors import InvalidInput
from events.privacy.models import SiteNotice
from events.resources import templates_dir

BODY_MAX = 50_000


class Notice(enum.StrEnum):
    """The notices, by the ``site_notices.key`` they are stored under."""

    privacy = "privacy_notice"
    accessibility = "accessibility"

    @property
    def heading(self) -> str:
        return TITLES[self]

    @property
    def slug(self) -> str:
        """How the console's address names it."""
        return SLUGS[self]


TITLES = {Notice.privacy: "Privacy notice", Notice.accessibility: "Accessibility statement"}
SLUGS = {Notice.privacy: "privacy-notice", Notice.accessibility: "accessibility"}


def notice_by_slug(slug: str) -> Notice | None:
    return next((notice for notice, known in SLUGS.items() if known == slug), None)


@dataclass(frozen=True)
class Retention:
    """The retention periods the default privacy notice states (from the settings)."""

    access_days: int
    registration_days: int

    @classmethod
    def of(cls, settings: Settings) -> Retention:
        return cls(settings.access_retention_days, settings.registration_retention_days)


def period(days: int) -> str:
    """A number of days as a reader says it: "30 days", "2 years"."""
    if days >= 730 and days % 365 == 0:
        return f"{days // 365} years"
    if days == 365:
        return "1 year"
    return f"{days} day{'s' if days != 1 else ''}"


@lru_cache(maxsize=4)
def _shipped(notice: Notice) -> string.Template:
    path = templates_dir() / "notices" / f"{notice.value}.md"
    return string.Template(path.read_text(encoding="utf-8"))


def default_text(notice: Notice, retention: Retention) -> str:
    """The shipped text, with this installation's retention periods."""
    return _shipped(notice).safe_substitute(
        access_period=period(retention.access_days),
        registration_period=period(retention.registration_days),
    )


@dataclass(frozen=True)
class NoticeText:
    notice: Notice
    body: str
    updated_at: dt.datetime | None  # None: the shipped default, never edited


async def current(session: AsyncSession, notice: Notice, retention: Retention) -> NoticeText:
    row = await session.get(SiteNotice, notice.value)
    if row is None:
        return NoticeText(notice, default_text(notice, retention), None)
    return NoticeText(notice, row.body, row.updated_at)


def parse_body(raw: object) -> str:
    """The edited Markdown: one newline convention, not blank, not huge."""
    text = raw if isinstance(raw, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInput({"body": "Enter the text of the notice."})
    if len(text) > BODY_MAX:
        raise InvalidInput({"body": f"The text must be {BODY_MAX:,} characters or fewer."})
    return text


async def save(
    session: AsyncSession,
    clock: Clock,
    actor: audit.Actor,
    notice: Notice,
    body: str,
    retention: Retention,
) -> bool:
    """Store the new text (already parsed by ``parse_body``); False when nothing changed.
    The audit row holds the text before and after."""
    row = (
        await session.execute(select(SiteNotice).where(SiteNotice.key == notice.value))
    ).scalar_one_or_none()
    before = row.body if row is not None else default_text(notice, retention)
    if before == body:
        return False
    if row is None:
        row = SiteNotice(key=notice.value, body=body, updated_at=clock.now())
        session.add(row)
    else:
        row.body = body
        row.updated_at = clock.now()
    await audit.record(
        session,
        clock,
        actor,
        f"{notice.value}.updated",
        before={"notice": notice.value, "body": before},
        after={"notice": notice.value, "body": body},
    )
    return True
