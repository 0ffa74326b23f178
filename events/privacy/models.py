"""A subject access request: the secret behind the erase link sent with the report.

The email address lives here (not in the link), so no URL ever carries personal data; the
token is stored only as a keyed hash, expires, and works once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
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
