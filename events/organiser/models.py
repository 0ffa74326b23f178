"""Organiser accounts and what hangs off them: login sessions, API tokens, event sharing,
and the audit log. (The throttle counters behind login back-off live in ``events.kit``.)

Secrets are never stored in clear: passwords as Argon2 hashes, session and API tokens as
keyed HMACs (see ``registration/tokens.py``), so the database alone cannot sign anyone in.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.db import Base, Pk, UtcDateTime, UtcTime, string_enum


class OrganiserRole(enum.StrEnum):
    admin = "admin"  # sees and does everything
    organiser = "organiser"  # their own events and those shared with them


class Organiser(Base):
    __tablename__ = "organisers"

    id: Mapped[Pk]
    # Normalised: surrounding spaces removed, lower case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[OrganiserRole] = mapped_column(
        string_enum(OrganiserRole, "organiser_role", length=16)
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[UtcTime]
    updated_at: Mapped[UtcTime]
    password_changed_at: Mapped[UtcTime]
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    @property
    def is_admin(self) -> bool:
        return self.role == OrganiserRole.admin


class LoginSession(Base):
    """A signed-in browser. The cookie holds the raw token; ending the row (logout, password
    change, expiry) makes every copy of that cookie worthless."""

    __tablename__ = "login_sessions"

    id: Mapped[Pk]
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[UtcTime]
    expires_at: Mapped[UtcTime]
    last_seen_at: Mapped[UtcTime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    organiser: Mapped[Organiser] = relationship(lazy="raise")


class ApiToken(Base):
    """A bearer token for the write API, acting as its organiser with their permissions."""

    __tablename__ = "api_tokens"

    id: Mapped[Pk]
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, shown in the console to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[UtcTime]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    organiser: Mapped[Organiser] = relationship(lazy="raise")


# Events shared with organisers other than their owner (events.owner_id).
event_shares = Table(
    "event_shares",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organiser_id",
        ForeignKey("organisers.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
