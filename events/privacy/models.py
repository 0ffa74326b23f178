"""The privacy room's tables. A subject access request: the secret behind the erase link
sent with the report; and the public notices (privacy notice, accessibility statement).

The email address lives here (not in the link), so no URL ever carries personal data; the
token is stored only as a keyed hash, expires, and works once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from events.db import Base, Pk, UtcDateTime, UtcTime


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[Pk]
    # Normalised: surrounding spaces removed, lower case.
    email: Mapped[str] = mapped_column(String(320), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[UtcTime]
    expires_at: Mapped[UtcTime]
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class SiteNotice(Base):
    """A public notice an admin edits in the console: the privacy notice or the
    accessibility statement (``notices.Notice``), as Markdown. No row: the default text
    shipped in ``templates/notices`` is shown."""

    __tablename__ = "site_notices"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[UtcTime]
