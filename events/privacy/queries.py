"""The read side of privacy: everything held for an address (the subject access report)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from events.alerts.models import TopicSubscription
from events.catalog.models import Event
from events.registration.models import Registration


@dataclass(frozen=True)
class HeldRegistration:
    registration: Registration
    event: Event


@dataclass(frozen=True)
class SubjectReport:
    email: str
    registrations: list[HeldRegistration]
    subscriptions: list[TopicSubscription]

    def as_json(self) -> dict[str, object]:
        """The machine-readable copy (GDPR Art. 20): every field held, in plain values."""
        return {
            "email": self.email,
            "registrations": [
                {
                    "event": held.event.title,
                    "event_starts_at": held.event.starts_at.isoformat(),
                    "status": held.registration.status.value,
                    "name": held.registration.name,
                    "email": held.registration.email,
                    "membership_number": held.registration.membership_number,
                    "role": held.registration.role,
                    "setting": held.registration.setting,
                    "access_requirements": list(held.registration.access_requirements),
                    "access_details": held.registration.access_details,
                    "access_requirements_purged": held.registration.access_purged_at is not None,
                    "consents": list(held.registration.consents),
                    "attended": held.registration.attended,
                    "registered_at": held.registration.created_at.isoformat(),
                }
                for held in self.registrations
            ],
            "topic_subscriptions": [
                {
                    "topic": subscription.topic.name,
                    "frequency": subscription.frequency.value,
                    "status": subscription.status.value,
                    "subscribed_at": subscription.created_at.isoformat(),
                }
                for subscription in self.subscriptions
            ],
        }


async def subject_report(session: AsyncSession, *, email: str) -> SubjectReport:
    rows = (
        await session.execute(
            select(Registration, Event)
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.email == email, Registration.erased_at.is_(None))
            .order_by(Event.starts_at, Registration.id)
        )
    ).all()
    subscriptions = (
        (
            await session.execute(
                select(TopicSubscription)
                .options(selectinload(TopicSubscription.topic))
                .where(TopicSubscription.email == email)
                .order_by(TopicSubscription.id)
            )
        )
        .scalars()
        .all()
    )
    return SubjectReport(
        email=email,
        registrations=[HeldRegistration(r, e) for r, e in rows],
        subscriptions=list(subscriptions),
    )
