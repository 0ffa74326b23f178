"""Privacy rules: what we hold for an email, erasing it, and retention.

- ``request_subject_access``: whatever the email, the same answer; the report goes to that
  address only (an outbox row), with a single-use erase link that expires.
- ``erase_email``: removes personal data from every registration under the address (freeing
  confirmed places, promoting the waiting list and sending calendar cancellations first),
  deletes its topic subscriptions, scrubs its old mail records and its audit details, and
  keeps only anonymous rows that still count (status, attended) for organisers' figures.
- ``purge_expired``: the retention job. Access requirements and other special category
  answers go a set number of days after the event; whole registrations after a longer one.
  Each purge is recorded in the audit log without the purged data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.alerts.models import SubscriptionStatus, TopicSubscription
from events.audit import service as audit
from events.audit.models import AuditEntry
from events.catalog.models import Event, EventStatus
from events.clock import Clock
from events.config import Settings
from events.errors import NotFound
from events.kit.jobs import Job
from events.kit.signing import Purpose, Signer
from events.mail.kinds import MessageKind
from events.mail.messages import REMOVED
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.privacy.messages import SubjectAccess
from events.privacy.models import PrivacyRequest
from events.privacy.queries import HeldRegistration, SubjectReport, subject_report
from events.registration import capacity, tokens
from events.registration import service as registration_service
from events.registration.models import Registration, RegistrationToken

log = logging.getLogger("events.privacy")

REQUEST_LIFETIME = dt.timedelta(days=7)
ERASED_NAME = ""


class ErasureLinkNotFound(NotFound):
    code = "erasure_link_not_found"
    message = "This erase link is not valid: it may have expired or been used already."


def _erased_email(registration_id: int) -> str:
    # Unique per row (so the active-email index stays meaningful) and not an address.
    return f"erased-{registration_id}@erased.invalid"


async def request_subject_access(
    session: AsyncSession, clock: Clock, *, email: str, signer: Signer
) -> None:
    """Queue the report of everything held for ``email``, to that address only. Known and
    unknown addresses get exactly the same treatment here and the same page in the view."""
    now = clock.now()
    token = tokens.new_token()
    row = PrivacyRequest(
        email=email,
        token_hash=signer.hash_token(Purpose.ERASE, token),
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(row)
    await session.flush()
    await enqueue(
        session,
        clock,
        message=SubjectAccess(request_id=row.id, erase_token=token),
        recipient=email,
        # Not the row's id: SQLite hands a deleted row's id out again, and an old request's
        # key would swallow this one. The token's hash is unique for ever.
        dedupe_key=f"privacy:{row.token_hash}",
    )


async def request_by_token(
    session: AsyncSession, clock: Clock, *, token: str, signer: Signer
) -> PrivacyRequest:
    if not tokens.plausible(token):
        raise ErasureLinkNotFound()
    digest = signer.hash_token(Purpose.ERASE, token)
    row = (
        await session.execute(select(PrivacyRequest).where(PrivacyRequest.token_hash == digest))
    ).scalar_one_or_none()
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= clock.now()
        or not signer.matches(Purpose.ERASE, token, row.token_hash)
    ):
        raise ErasureLinkNotFound()
    return row


@dataclass
class Erasure:
    registrations: int = 0
    places_freed: int = 0
    subscriptions: int = 0
    promoted: list[int] = field(default_factory=list)


def _anonymous(registration_id: int, now: dt.datetime) -> dict[str, object]:
    return {
        "name": ERASED_NAME,
        "email": _erased_email(registration_id),
        "membership_number": "",
        "role": "",
        "setting": "",
        "access_requirements": [],
        "access_details": "",
        "consents": [],
        "erased_at": now,
        "access_purged_at": now,
        "updated_at": now,
    }


async def _scrub_records(
    session: AsyncSession, registration_ids: Sequence[int], emails: Sequence[str], now: dt.datetime
) -> None:
    """What else named the person: their secret links, their mail records (a pending
    message, other than the cancellations just queued, is not sent), and the details in the
    audit entries about their registrations."""
    if registration_ids:
        # A private feed link keeps answering, with an empty calendar (issue 13 item 9):
        # calendar apps keep showing the last copy of a subscription that errors, so a 404
        # would leave the person's events on their devices for ever. Only the link's hash
        # stays, tied to nothing (``registration.models.RetiredCalendarLink``).
        await registration_service.retire_calendar_links(session, registration_ids)
        await session.execute(
            delete(RegistrationToken).where(RegistrationToken.registration_id.in_(registration_ids))
        )
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.registration_id.in_(registration_ids))
            .values(before={}, after={"personal data": "erased"})
        )
    if emails:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.recipient.in_(emails),
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.kind != MessageKind.cancelled,
            )
            .values(
                status=OutboxStatus.skipped,
                last_error="not sent: the person's data was erased",
                recipient=REMOVED,
                payload={},
            )
        )
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.recipient.in_(emails),
                OutboxMessage.status != OutboxStatus.pending,
            )
            .values(recipient=REMOVED, payload={})
        )


async def erase_email(
    session: AsyncSession, clock: Clock, *, email: str, signer: Signer, actor: audit.Actor
) -> Erasure:
    """Erase everything held under ``email`` (see the module docstring)."""
    now = clock.now()
    result = Erasure()
    rows = (
        await session.execute(
            select(Registration.id, Registration.event_id)
            .where(Registration.email == email, Registration.erased_at.is_(None))
            .order_by(Registration.event_id, Registration.id)
        )
    ).all()
    # Events locked in id order, as every other writer does, so two erasures cannot deadlock.
    for registration_id, event_id in rows:
        await capacity.lock_event(session, event_id)
        registration = (
            await session.execute(
                select(Registration)
                .where(Registration.id == registration_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        event = (await session.execute(select(Event).where(Event.id == event_id))).scalar_one()
        upcoming = event.ends_at > now and event.status != EventStatus.cancelled
        if upcoming:
            # The same cancellation as a member's own (audit row, freed place, waiting list),
            # but only a confirmed place is told: METHOD:CANCEL removes the calendar entry,
            # and that row keeps nothing of the person once sent.
            cancelled = await registration_service.cancel_locked(
                session,
                clock,
                event=event,
                registration=registration,
                actor=actor,
                signer=signer,
                erasing=True,
            )
            result.places_freed += int(cancelled.place_freed)
            result.promoted.extend(p.id for p in cancelled.promoted)
        for name, value in _anonymous(registration.id, now).items():
            setattr(registration, name, value)
        await session.flush()
        result.registrations += 1
    registration_ids = [registration_id for registration_id, _ in rows]
    await _scrub_records(session, registration_ids, [email], now)
    for registration_id, event_id in rows:
        await audit.record(
            session,
            clock,
            actor,
            "registration.erased",
            event_id=event_id,
            registration_id=registration_id,
            after={"personal data": "erased"},
        )
    # Subscriptions end and lose the address, but their rows stay: deleting them would let
    # SQLite reuse their ids, and a new subscription would inherit their alerts' dedupe keys.
    subscriptions = (
        (
            await session.execute(
                select(TopicSubscription.id).where(TopicSubscription.email == email)
            )
        )
        .scalars()
        .all()
    )
    for subscription_id in subscriptions:
        await session.execute(
            update(TopicSubscription)
            .where(TopicSubscription.id == subscription_id)
            .values(
                email=_erased_email(subscription_id),
                status=SubscriptionStatus.unsubscribed,
                unsubscribed_at=now,
                updated_at=now,
            )
        )
    result.subscriptions = len(subscriptions)
    await session.execute(delete(PrivacyRequest).where(PrivacyRequest.email == email))
    await session.flush()
    return result


async def erase_by_token(
    session: AsyncSession, clock: Clock, *, token: str, signer: Signer
) -> Erasure:
    request = await request_by_token(session, clock, token=token, signer=signer)
    return await erase_email(session, clock, email=request.email, signer=signer, actor=audit.MEMBER)


@dataclass(frozen=True)
class Purge:
    access_purged: int
    registrations_erased: int
    requests_removed: int
    mail_records_scrubbed: int


async def purge_expired(
    session: AsyncSession, clock: Clock, *, access_days: int, registration_days: int
) -> Purge:
    """The retention job: safe to run as often as wanted (each run purges what is due)."""
    now = clock.now()
    access_cutoff = now - dt.timedelta(days=access_days)
    whole_cutoff = now - dt.timedelta(days=registration_days)

    # Special category answers, per event so the audit log can say how many.
    due_access = (
        await session.execute(
            select(Registration.event_id, func.count(Registration.id))
            .join(Event, Event.id == Registration.event_id)
            .where(Event.ends_at < access_cutoff, Registration.access_purged_at.is_(None))
            .group_by(Registration.event_id)
            .order_by(Registration.event_id)
        )
    ).all()
    access_total = 0
    for event_id, count in due_access:
        await session.execute(
            update(Registration)
            .where(Registration.event_id == event_id, Registration.access_purged_at.is_(None))
            .values(access_requirements=[], access_details="", access_purged_at=now)
        )
        await audit.record(
            session,
            clock,
            audit.SYSTEM,
            "access_requirements.purged",
            event_id=event_id,
            after={"registrations": int(count), "retention_days": access_days},
        )
        access_total += int(count)

    # Whole registrations, long after the event: only anonymous counting rows remain.
    due_whole = (
        await session.execute(
            select(Registration.id, Registration.event_id, Registration.email)
            .join(Event, Event.id == Registration.event_id)
            .where(Event.ends_at < whole_cutoff, Registration.erased_at.is_(None))
            .order_by(Registration.event_id, Registration.id)
        )
    ).all()
    per_event: dict[int, int] = {}
    for registration_id, event_id, _email in due_whole:
        await session.execute(
            update(Registration)
            .where(Registration.id == registration_id)
            .values(**_anonymous(registration_id, now))
        )
        per_event[event_id] = per_event.get(event_id, 0) + 1
    await _scrub_records(session, [row[0] for row in due_whole], [], now)
    if per_event:
        # Mail about those events is long finished with; anything never sent is not sent now.
        about = OutboxMessage.event_id.in_(list(per_event))
        await session.execute(
            update(OutboxMessage)
            .where(about, OutboxMessage.status == OutboxStatus.pending)
            .values(status=OutboxStatus.skipped, last_error="not sent: past retention")
        )
        await session.execute(
            update(OutboxMessage).where(about).values(recipient=REMOVED, payload={})
        )
    for event_id, count in per_event.items():
        await audit.record(
            session,
            clock,
            audit.SYSTEM,
            "registrations.erased",
            event_id=event_id,
            after={"registrations": count, "retention_days": registration_days},
        )

    # Mail records: the address and contents of mail finished with, after the short period.
    scrubbed = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status != OutboxStatus.pending,
            OutboxMessage.created_at < access_cutoff,
            OutboxMessage.recipient != REMOVED,
        )
        .values(recipient=REMOVED, payload={})
    )
    removed = await session.execute(delete(PrivacyRequest).where(PrivacyRequest.expires_at < now))
    await session.flush()
    return Purge(
        access_purged=access_total,
        registrations_erased=len(due_whole),
        requests_removed=int(removed.rowcount or 0),  # type: ignore[attr-defined]
        mail_records_scrubbed=int(scrubbed.rowcount or 0),  # type: ignore[attr-defined]
    )


async def _retention_job(
    session: AsyncSession, clock: Clock, settings: Settings, signer: Signer
) -> int:
    done = await purge_expired(
        session,
        clock,
        access_days=settings.access_retention_days,
        registration_days=settings.registration_retention_days,
    )
    if done.access_purged or done.registrations_erased:
        log.info(
            "retention: access requirements purged from %s registrations, %s registrations "
            "erased, %s mail records scrubbed",
            done.access_purged,
            done.registrations_erased,
            done.mail_records_scrubbed,
        )
    return done.access_purged + done.registrations_erased + done.mail_records_scrubbed


# Safe alongside other workers; once an hour per worker is plenty.
RETENTION_JOB = Job(name="retention", run=_retention_job, every=dt.timedelta(hours=1))

__all__ = [
    "REMOVED",
    "RETENTION_JOB",
    "Erasure",
    "ErasureLinkNotFound",
    "HeldRegistration",
    "Purge",
    "SubjectReport",
    "erase_by_token",
    "erase_email",
    "purge_expired",
    "request_by_token",
    "request_subject_access",
    "subject_report",
]
