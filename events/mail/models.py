"""The outbox: every email is a row written in the same transaction as the change causing it.

A worker (another room's job) claims pending rows, renders and sends them. ``dedupe_key`` is
unique, so a change retried or replayed never queues the same message twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from events.db import Base, Pk, UtcDateTime, UtcTime, string_enum


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    # Not sent, on purpose: e.g. a reminder whose registration was cancelled meanwhile.
    skipped = "skipped"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[Pk]
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        string_enum(OutboxStatus, "outbox_status", length=16),
        default=OutboxStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[UtcTime]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[UtcTime]
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The worker's lease: a row claimed until this instant is another worker's; after it,
    # (the claimant presumably died) the row is due again.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    # The Message-ID the email carried (stable per row; see mail/compose.py).
    message_id: Mapped[str] = mapped_column(String(250), default="")
    # The event the message is about, if any: the organiser's view of an event's mail.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )


class WorkerHeartbeat(Base):
    """One row per running outbox worker, rewritten every ``worker_heartbeat_seconds``: how
    other workers tell a live claimer from a dead one (see ``mail/worker.py``)."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # Where ``pid`` means something: the host, its boot and its PID namespace. Empty when
    # that cannot be told (then only the heartbeat's age says a worker is dead).
    pid_space: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[UtcTime]
    beat_at: Mapped[UtcTime]
