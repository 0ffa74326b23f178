"""Tables owned by the shared kit rather than by a room."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from events.db import Base, UtcDateTime, UtcTime


class ThrottleCounter(Base):
    """A counter in the database, so that every process and machine shares it: failed logins
    per account and per client address, rate-limit windows and failed secret-link lookups."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[UtcTime]
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
