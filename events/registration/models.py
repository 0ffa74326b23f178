"""A registration: one person for one event.

Invariants the database enforces as well as the code:
- one active (not cancelled) registration per event and normalised email (partial UNIQUE);
- waiting-list numbers are unique per event and given in arrival order (see service.py);
- calendar invites to one address about one event carry ever higher SEQUENCE numbers, across
  its registrations (a cancelled one, then a new one): ``invite_sequence``, see service.py;
- its secret links (management, joining, private calendar) are stored only as keyed hashes
  (see tokens.py), one row per link sent, so a link in an older email keeps working.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.catalog.models import Event
from events.db import Base, Pk, UtcDateTime, UtcTime, string_enum


class RegistrationStatus(enum.StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


ACTIVE = "status != 'cancelled'"


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        Index(
            "uq_registrations_active_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        UniqueConstraint(
            "event_id", "waiting_list_number", name="uq_registrations_event_waiting_number"
        ),
        CheckConstraint(
            "status != 'waitlisted' OR waiting_list_number IS NOT NULL",
            name="waitlisted_have_number",
        ),
        CheckConstraint(
            "waiting_list_number IS NULL OR waiting_list_number >= 1",
            name="waiting_number_positive",
        ),
        Index("ix_registrations_event_status", "event_id", "status", "waiting_list_number"),
    )

    id: Mapped[Pk]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Normalised: surrounding spaces removed, lower case.
    email: Mapped[str] = mapped_column(String(320), index=True)
    membership_number: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(40), default="")
    setting: Mapped[str] = mapped_column(String(40), default="")
    # Special category data: shown only to the event's organisers, purged after the event.
    access_requirements: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_details: Mapped[str] = mapped_column(Text, default="")
    consents: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[RegistrationStatus] = mapped_column(
        string_enum(RegistrationStatus, "registration_status", length=16)
    )
    # Arrival order on the waiting list, 1..n per event; kept after promotion as history.
    waiting_list_number: Mapped[int | None] = mapped_column(Integer)
    # How many times the confirmation was sent again; part of the resend's dedupe key.
    resend_count: Mapped[int] = mapped_column(Integer, default=0)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    # The SEQUENCE of the last calendar invite queued about this registration (None: none
    # yet). The highest over one address's registrations for an event is that person's
    # high-water mark: the next invite to them goes above it (``service.invite_sequence``).
    invite_sequence: Mapped[int | None] = mapped_column(Integer)
    # Set when the retention job removed the access requirements (special category data).
    access_purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Set when the person's data was erased (subject request or retention): only counts remain.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[UtcTime]
    updated_at: Mapped[UtcTime]
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    event: Mapped[Event] = relationship(lazy="raise")


class TokenPurpose(enum.StrEnum):
    manage = "manage"  # view, add to calendar, cancel
    joining = "join"  # the personal joining link (redirects to the platform's link)
    calendar = "calendar"  # the private feed of the holder's own places (read only)


class RegistrationToken(Base):
    """One secret link sent to a registrant, stored as a keyed hash (never in clear)."""

    __tablename__ = "registration_tokens"

    id: Mapped[Pk]
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(
        string_enum(TokenPurpose, "token_purpose", length=16)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[UtcTime]

    registration: Mapped[Registration] = relationship(lazy="raise")


class RetiredCalendarLink(Base):
    """A private feed link whose registration was erased (on request or by retention): only
    the link's keyed hash, tied to no registration, event or time, so nothing personal is
    kept. The feed answers it with an empty calendar instead of a 404, so that subscribed
    calendar apps drop the person's events rather than keep the last copy (see
    ``calendar.service.private_places``)."""

    __tablename__ = "retired_calendar_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
