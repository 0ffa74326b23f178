"""A subscription to a topic's new events.

Its confirmation and unsubscribe links are HMACs of the subscription's id keyed with the app
secret (see ``alerts/service.py``): nothing secret is stored, and every alert can carry a
working unsubscribe link without minting and storing a token per email.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.catalog.models import Topic
from events.db import Base, Pk, UtcDateTime, UtcTime, string_enum


class AlertFrequency(enum.StrEnum):
    immediate = "immediate"  # one email per new event
    daily = "daily"  # one digest a day, when there is something new


class SubscriptionStatus(enum.StrEnum):
    pending = "pending"  # waiting for the email address to be confirmed
    active = "active"
    unsubscribed = "unsubscribed"


class TopicSubscription(Base):
    __tablename__ = "topic_subscriptions"
    __table_args__ = (UniqueConstraint("topic_id", "email", name="uq_topic_subscriptions_email"),)

    id: Mapped[Pk]
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    # Normalised: surrounding spaces removed, lower case.
    email: Mapped[str] = mapped_column(String(320), index=True)
    frequency: Mapped[AlertFrequency] = mapped_column(
        string_enum(AlertFrequency, "alert_frequency", length=16)
    )
    status: Mapped[SubscriptionStatus] = mapped_column(
        string_enum(SubscriptionStatus, "subscription_status", length=16),
        default=SubscriptionStatus.pending,
    )
    created_at: Mapped[UtcTime]
    updated_at: Mapped[UtcTime]
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Events published after this instant go into the next daily digest.
    digest_sent_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    topic: Mapped[Topic] = relationship(lazy="raise")
