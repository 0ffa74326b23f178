"""The audit log's one table. A low room: every room that changes events or registrations
writes here, and only the organiser console reads it."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from events.db import Base, Pk, UtcTime, string_enum


class ActorKind(enum.StrEnum):
    organiser = "organiser"
    api = "api"  # an organiser acting through an API token
    member = "member"  # someone using their management link or the public forms
    system = "system"  # the worker, retention jobs, the command line


class AuditEntry(Base):
    """One change to an event or registration: who, what, when, before and after.

    ``before`` and ``after`` hold only the fields that changed. Personal data purged later is
    purged here too (the purge job rewrites the entries), and a purge itself is recorded
    without the purged values."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_event_at", "event_id", "at", "id"),)

    id: Mapped[Pk]
    at: Mapped[UtcTime]
    actor_kind: Mapped[ActorKind] = mapped_column(string_enum(ActorKind, "actor_kind", length=16))
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    # Who, as shown in the log: an organiser's email, "member", "system".
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
