"""Catalogue rows: what an event is, and what groups events (topics, series, campaigns).

Regions and access provisions are reference data written by the first migration; the code
refers to them by their stable ``slug`` / ``code``.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.db import Base, Pk, Slug, UtcDateTime, UtcTime, string_enum


class EventKind(enum.StrEnum):
    webinar = "webinar"
    campaign_event = "campaign_event"
    meeting = "meeting"
    training = "training"
    conference = "conference"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    EventKind.webinar: "Webinar",
    EventKind.campaign_event: "Campaign event",
    EventKind.meeting: "Meeting",
    EventKind.training: "Training",
    EventKind.conference: "Conference",
}


class EventFormat(enum.StrEnum):
    online = "online"
    in_person = "in_person"
    hybrid = "hybrid"

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self]


FORMAT_LABELS = {
    EventFormat.online: "Online",
    EventFormat.in_person: "In person",
    EventFormat.hybrid: "Hybrid (in person and online)",
}


class EventStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    cancelled = "cancelled"


event_topics = Table(
    "event_topics",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)

event_access_provisions = Table(
    "event_access_provisions",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "provision_code",
        ForeignKey("access_provisions.code", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)

series_partners = Table(
    "series_partners",
    Base.metadata,
    Column("series_id", ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="RESTRICT"), primary_key=True),
)


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[Pk]
    slug: Mapped[Slug]
    name: Mapped[str] = mapped_column(String(80))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AccessProvision(Base):
    __tablename__ = "access_provisions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[Pk]
    slug: Mapped[Slug]
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    advice: Mapped[str] = mapped_column(Text, default="")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Partner(Base):
    """A partner organisation, such as a SEN association that co-runs a webinar series."""

    __tablename__ = "partners"

    id: Mapped[Pk]
    slug: Mapped[Slug]
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Series(Base):
    __tablename__ = "series"

    id: Mapped[Pk]
    slug: Mapped[Slug]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")

    partners: Mapped[list[Partner]] = relationship(
        secondary=series_partners, lazy="raise", order_by=Partner.name
    )


class Campaign(Base):
    """A day or week of many local events (e.g. "SEND National Crisis")."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)

    id: Mapped[Pk]
    slug: Mapped[Slug]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)


# 7 days, 1 day and 1 hour before.
DEFAULT_REMINDER_OFFSETS: tuple[int, ...] = (7 * 24 * 60, 24 * 60, 60)


def _new_uid() -> str:
    return f"{uuid.uuid4()}@events"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "(capacity IS NULL AND places_left IS NULL) OR "
            "(places_left >= 0 AND places_left <= capacity)",
            name="places_left_within_capacity",
        ),
        CheckConstraint("ical_sequence >= 0", name="ical_sequence_not_negative"),
        CheckConstraint(
            "registration_opens_at IS NULL OR registration_closes_at IS NULL "
            "OR registration_closes_at > registration_opens_at",
            name="registration_window_in_order",
        ),
        Index("ix_events_status_starts_at", "status", "starts_at", "id"),
        Index("ix_events_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[Pk]
    # The iCalendar UID: random, assigned once, never derived from anything that can change.
    uid: Mapped[str] = mapped_column(String(80), unique=True, default=_new_uid)
    slug: Mapped[Slug]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[EventKind] = mapped_column(string_enum(EventKind, "kind"))
    format: Mapped[EventFormat] = mapped_column(string_enum(EventFormat, "format"))
    status: Mapped[EventStatus] = mapped_column(
        string_enum(EventStatus, "status"), default=EventStatus.draft
    )
    starts_at: Mapped[UtcTime]
    ends_at: Mapped[UtcTime]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)

    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(Text, default="")
    town: Mapped[str] = mapped_column(String(120), default="", index=True)
    postcode: Mapped[str] = mapped_column(String(10), default="")
    # The outward part of the postcode ("M1", "SW1A"), kept for the campaign finder.
    postcode_district: Mapped[str] = mapped_column(String(5), default="", index=True)
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )

    # Private: shown only to confirmed registrants, never on a public page, feed or API.
    joining_url: Mapped[str] = mapped_column(String(1000), default="")

    capacity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    # Changed only by registration/capacity.py, inside the transaction that claims a place.
    places_left: Mapped[int | None] = mapped_column(Integer)
    waiting_list_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_opens_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    registration_closes_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    access_notes: Mapped[str] = mapped_column(Text, default="")

    organiser_name: Mapped[str] = mapped_column(String(200), default="")
    organiser_email: Mapped[str] = mapped_column(String(320), default="")

    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Minutes before the start at which confirmed registrants get a reminder.
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS)
    )
    # The organiser who owns the event (others see it only when it is shared with them).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )

    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )

    created_at: Mapped[UtcTime]
    updated_at: Mapped[UtcTime]
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    region: Mapped[Region | None] = relationship(lazy="raise")
    series: Mapped[Series | None] = relationship(lazy="raise")
    campaign: Mapped[Campaign | None] = relationship(lazy="raise")
    topics: Mapped[list[Topic]] = relationship(
        secondary=event_topics, lazy="raise", order_by=Topic.sort_order
    )
    access_provisions: Mapped[list[AccessProvision]] = relationship(
        secondary=event_access_provisions, lazy="raise", order_by=AccessProvision.sort_order
    )

    @property
    def zone_name(self) -> str:
        return self.timezone

    def is_past(self, now: dt.datetime) -> bool:
        return self.ends_at <= now


# Reference rows written by the first migration (and read by demo data and tests).
REGIONS: list[tuple[str, str]] = [
    ("north-east", "North East"),
    ("north-west", "North West"),
    ("yorkshire-and-the-humber", "Yorkshire and the Humber"),
    ("east-midlands", "East Midlands"),
    ("west-midlands", "West Midlands"),
    ("east-of-england", "East of England"),
    ("london", "London"),
    ("south-east", "South East"),
    ("south-west", "South West"),
    ("wales", "Wales"),
]

ACCESS_PROVISIONS: list[tuple[str, str]] = [
    ("step_free", "Step-free access"),
    ("bsl", "British Sign Language interpreter"),
    ("live_captions", "Live captions"),
    ("hearing_loop", "Hearing loop"),
    ("quiet_room", "Quiet room"),
]
