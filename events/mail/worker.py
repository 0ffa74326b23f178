"""The outbox worker: claims due messages, composes them, sends them, records the outcome.
The only code that talks SMTP.

A batch, step by step:

1. **Claim** (one short transaction): mark up to ``batch_size`` due rows as ours until
   ``now + lease``. On PostgreSQL the candidate rows are selected ``FOR UPDATE SKIP
   LOCKED``, so simultaneous workers claim disjoint batches without waiting on each other;
   on SQLite the same conditional ``UPDATE ... WHERE id IN (due rows) RETURNING id`` runs
   under ``BEGIN IMMEDIATE``, one writer at a time. A row is due when pending, its
   ``next_attempt_at`` has come, and no live lease holds it: a worker that died mid-batch
   leaves leases that expire, and the rows are sent by whoever claims next.
2. **Send** over one transport connection (``transport.Transport``).
3. **Record** each outcome in its own transaction right after the server answers, so a crash
   re-sends at most the message in flight (with the same Message-ID):
   sent (raw tokens removed from the payload), retried with exponential back-off (4xx,
   connection trouble), or failed with the server's answer (5xx, or a row that cannot be
   composed). Tokens are removed from failed rows too: nothing will use them.
   A row that should no longer go out (a reminder whose registration or event was
   cancelled, or whose event moved; an alert for an event unpublished or a subscription
   ended meanwhile) is marked "skipped" with the reason, and not sent.

Before the batches, ``drain`` runs the scheduler step: due reminders
(``mail/reminders.py``) and today's topic digests (``alerts/service.py``) are queued, each in
its own short transaction; their dedupe keys make concurrent workers harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

from sqlalchemy import or_, select, update

from events.alerts import service as alerts
from events.alerts.models import SubscriptionStatus, TopicSubscription
from events.catalog.models import Event, EventStatus
from events.clock import Clock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.compose import (
    ALERT_KINDS,
    NOTICE_KINDS,
    CalendarPart,
    ComposeError,
    Outgoing,
    compose,
    message_id,
)
from events.mail.invites import registration_invite
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.reminders import schedule_reminders
from events.mail.transport import (
    DeliveryError,
    PermanentFailure,
    Transport,
    transport_from_url,
)
from events.organiser import throttle
from events.privacy import service as privacy
from events.privacy.report import compose_report
from events.privacy.service import SubjectReport
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import ACCESS_NEEDS

log = logging.getLogger("events.mail")

# Payload keys holding raw secrets (management and joining tokens): dropped once sent.
# (Alert links are not stored at all: they are HMACs the worker computes when sending.)
SECRET_KEYS = ("manage_token", "join_token", "calendar_token", "erase_token")

InviteBuilder = Callable[[Outgoing, Event, Registration | None, str, str], CalendarPart | None]
"""The calendar hook: (row, event, registration, base_url, mail_from) -> the invite part."""


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 50
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_base: dt.timedelta = dt.timedelta(minutes=1)
    retry_max: dt.timedelta = dt.timedelta(hours=6)
    max_attempts: int = 10
    poll_seconds: float = 2.0
    # Run the scheduler step (reminders, digests) before each drain.
    schedule: bool = True
    schedule_limit: int = 500
    digest_hour: int = 7
    # Retention (privacy.service.purge_expired), run at most this often by each worker.
    purge_every: dt.timedelta = dt.timedelta(hours=1)
    access_retention_days: int = 30
    registration_retention_days: int = 730

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            batch_size=settings.worker_batch_size,
            lease=dt.timedelta(seconds=settings.worker_lease_seconds),
            retry_base=dt.timedelta(seconds=settings.mail_retry_base_seconds),
            retry_max=dt.timedelta(seconds=settings.mail_retry_max_seconds),
            max_attempts=settings.mail_max_attempts,
            poll_seconds=settings.worker_poll_seconds,
            digest_hour=settings.alert_digest_hour,
            access_retention_days=settings.access_retention_days,
            registration_retention_days=settings.registration_retention_days,
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """Delay after the ``attempts``-th failed try: base, 2x base, 4x base ... capped."""
        delay: dt.timedelta = self.retry_base * (2 ** max(attempts - 1, 0))
        return min(delay, self.retry_max)


@dataclass(frozen=True)
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.claimed + other.claimed,
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.skipped + other.skipped,
        )

    def line(self) -> str:
        text = (
            f"claimed {self.claimed}, sent {self.sent}, retried {self.retried}, "
            f"failed {self.failed}"
        )
        return text + (f", skipped {self.skipped}" if self.skipped else "")


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _without_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key not in SECRET_KEYS}


@dataclass
class _Loaded:
    row: OutboxMessage
    outgoing: Outgoing
    event: Event | None
    registration: Registration | None
    subscription: TopicSubscription | None = None
    events: list[Event] | None = None
    # A subject access report, read when sending (the row holds no copy of the data).
    report: SubjectReport | None = None


def _ids(values: object) -> list[int]:
    return [v for v in values if isinstance(v, int)] if isinstance(values, list) else []


def _skip_reason(item: _Loaded, now: dt.datetime) -> str | None:
    """Why this row should not be sent any more, or None to send it."""
    kind, event, registration = item.row.kind, item.event, item.registration
    if kind in ALERT_KINDS:
        subscription = item.subscription
        if subscription is None:
            return "the subscription no longer exists"
        if kind == "subscription_confirm":
            if subscription.status != SubscriptionStatus.pending:
                return f"the subscription is {subscription.status.value} already"
            return None
        if subscription.status != SubscriptionStatus.active:
            return "the subscriber has unsubscribed"
        if kind == "alert" and event is not None and event.status != EventStatus.published:
            return "the event is no longer published"
        if kind == "alert_digest" and not item.events:
            return "none of the digest's events is still published and to come"
        return None
    if kind not in NOTICE_KINDS or kind == "event_cancelled":
        return None
    if registration is None or registration.erased_at is not None:
        return "the registration no longer exists"
    if registration.status == RegistrationStatus.cancelled:
        return "the registration was cancelled"
    if kind != "reminder" or event is None:
        return None
    if registration.status != RegistrationStatus.confirmed:
        return "the registration is not confirmed"
    if event.status != EventStatus.published:
        return f"the event is {event.status.value}"
    planned = item.row.payload.get("starts_at")
    if not isinstance(planned, str) or dt.datetime.fromisoformat(planned) != event.starts_at:
        return "the event was rescheduled"
    if now >= event.starts_at:
        return "the event has started"
    return None


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        *,
        transport: Transport | None = None,
        options: WorkerOptions | None = None,
        worker_id: str | None = None,
        invites: InviteBuilder | None = registration_invite,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.transport = transport or transport_from_url(
            settings.mail_url, ca_file=settings.mail_ca_file
        )
        self.options = options or WorkerOptions.from_settings(settings)
        self.worker_id = worker_id or new_worker_id()
        self.invites = invites
        # BEGIN IMMEDIATE on SQLite, as the writer sessions do.
        self._write_engine = database.engine.execution_options(sqlite_begin_immediate=True)
        self._last_purge: dt.datetime | None = None

    async def claim(self) -> list[int]:
        """Lease up to ``batch_size`` due rows to this worker; their ids, oldest first."""
        now = self.clock.now()
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.options.batch_size)
            # PostgreSQL: skip rows another worker is claiming right now (SQLite: no-op;
            # BEGIN IMMEDIATE already makes this transaction the only writer).
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + self.options.lease, claimed_by=self.worker_id)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        async with unit_of_work(self.database.writer) as session:
            return sorted((await session.scalars(claim)).all())

    async def _load(self, ids: Sequence[int]) -> list[_Loaded]:
        async with self.database.reader() as session:
            rows = list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids))
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )
            event_ids = {r.payload.get("event_id") for r in rows} - {None}
            for r in rows:
                event_ids.update(_ids(r.payload.get("event_ids")))
            registration_ids = {r.payload.get("registration_id") for r in rows} - {None}
            subscription_ids = {r.payload.get("subscription_id") for r in rows} - {None}
            events = {
                e.id: e
                for e in (await session.scalars(select(Event).where(Event.id.in_(event_ids))))
            }
            registrations = {
                r.id: r
                for r in await session.scalars(
                    select(Registration).where(Registration.id.in_(registration_ids))
                )
            }
            subscriptions = {
                s.id: s
                for s in await session.scalars(
                    select(TopicSubscription).where(TopicSubscription.id.in_(subscription_ids))
                )
            }
            reports = {
                r.id: await privacy.subject_report(session, email=r.recipient)
                for r in rows
                if r.kind == "subject_access"
            }
        now = self.clock.now()
        return [
            _Loaded(
                row=row,
                outgoing=Outgoing(
                    id=row.id,
                    kind=row.kind,
                    recipient=row.recipient,
                    payload=row.payload,
                    dedupe_key=row.dedupe_key,
                    created_at=row.created_at,
                ),
                event=events.get(row.payload.get("event_id")),  # type: ignore[arg-type]
                registration=registrations.get(row.payload.get("registration_id")),  # type: ignore[arg-type]
                subscription=subscriptions.get(row.payload.get("subscription_id")),  # type: ignore[arg-type]
                events=[
                    events[i]
                    for i in _ids(row.payload.get("event_ids"))
                    if i in events
                    and events[i].status == EventStatus.published
                    and events[i].starts_at > now
                ]
                if "event_ids" in row.payload
                else None,
                report=reports.get(row.id),
            )
            for row in rows
        ]

    def _alert_links(self, item: _Loaded) -> Outgoing:
        """Alert rows carry no secrets: their links are computed here, when sending."""
        subscription = item.subscription
        if subscription is None:
            return item.outgoing
        secret = self.settings.secret()
        payload = dict(item.outgoing.payload)
        payload["unsubscribe_token"] = alerts.link_token(secret, subscription, "unsubscribe")
        if item.row.kind == "subscription_confirm":
            payload["confirm_token"] = alerts.link_token(secret, subscription, "confirm")
        return replace(item.outgoing, payload=payload)

    def _compose(self, item: _Loaded) -> EmailMessage:
        if item.report is not None:
            return compose_report(
                item.outgoing,
                item.report,
                mail_from=self.settings.mail_from,
                base_url=self.settings.base_url,
            )
        if item.row.kind in ALERT_KINDS:
            if item.row.kind == "alert" and item.event is None:
                raise ComposeError("the event this message is about no longer exists")
            return compose(
                self._alert_links(item),
                event=item.event,
                mail_from=self.settings.mail_from,
                base_url=self.settings.base_url,
                events=item.events or [],
            )
        if item.event is None:
            raise ComposeError("the event this message is about no longer exists")
        registration = item.registration
        codes = registration.access_requirements if registration is not None else []
        calendar = (
            self.invites(
                item.outgoing,
                item.event,
                registration,
                self.settings.base_url,
                self.settings.mail_from,
            )
            if self.invites is not None
            else None
        )
        return compose(
            item.outgoing,
            event=item.event,
            mail_from=self.settings.mail_from,
            base_url=self.settings.base_url,
            access_requirements=[ACCESS_NEEDS.get(code, code) for code in codes],
            access_details=registration.access_details if registration is not None else "",
            calendar=calendar,
        )

    async def run_batch(self) -> BatchResult:
        """Claim, send and record one batch. An empty result means nothing was due."""
        ids = await self.claim()
        if not ids:
            return BatchResult()
        items = await self._load(ids)
        sent = retried = failed = skipped = 0
        sender = self.settings.mail_from
        now = self.clock.now()
        async with self.transport as transport:
            for index, item in enumerate(items):
                reason = _skip_reason(item, now)
                if reason is not None:
                    await self._skipped(item.row, reason)
                    skipped += 1
                    continue
                try:
                    message = self._compose(item)
                except ComposeError as exc:
                    await self._failed(item.row, str(exc))
                    failed += 1
                    continue
                except Exception as exc:
                    # A bug (a template, the invite builder), not the message's fault: back
                    # off, so a fixed release sends it; attempts still run out eventually.
                    log.exception("mail: cannot compose message %s", item.row.id)
                    if await self._retry(item.row, f"cannot compose: {exc!r}"):
                        retried += 1
                    else:
                        failed += 1
                    continue
                try:
                    await transport.send(message, sender=sender, recipient=item.row.recipient)
                except PermanentFailure as exc:
                    await self._failed(item.row, exc.answer)
                    failed += 1
                except DeliveryError as exc:
                    if await self._retry(item.row, exc.answer):
                        retried += 1
                    else:
                        failed += 1
                    if exc.connection:
                        # The server is unusable: put the rest back without counting a try.
                        rest = [i.row.id for i in items[index + 1 :]]
                        await self._release(rest, exc.answer)
                        retried += len(rest)
                        break
                else:
                    await self._sent(item.row, str(message["Message-ID"]))
                    sent += 1
        result = BatchResult(
            claimed=len(ids), sent=sent, retried=retried, failed=failed, skipped=skipped
        )
        log.info("mail worker %s: %s", self.worker_id, result.line())
        return result

    async def _record(self, row_id: int, values: dict[str, Any]) -> None:
        # One short write transaction per outcome, on a Core connection (no ORM session to
        # build and tear down for each message: about a third of the per-message cost).
        async with self._write_engine.begin() as connection:
            await connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.pending)
                .values(**values)
            )

    async def _sent(self, row: OutboxMessage, sent_id: str) -> None:
        await self._record(
            row.id,
            {
                "status": OutboxStatus.sent,
                "sent_at": self.clock.now(),
                "attempts": row.attempts + 1,
                "claimed_until": None,
                "claimed_by": "",
                "message_id": sent_id,
                "last_error": "",
                "payload": _without_secrets(row.payload),
            },
        )

    async def _skipped(self, row: OutboxMessage, reason: str) -> None:
        log.info("mail: message %s (%s) skipped: %s", row.id, row.kind, reason)
        await self._record(
            row.id,
            {
                "status": OutboxStatus.skipped,
                "claimed_until": None,
                "claimed_by": "",
                "last_error": reason,
                "payload": _without_secrets(row.payload),
            },
        )

    async def _failed(self, row: OutboxMessage, answer: str) -> None:
        # No address, and only the reply's code: a server's answer often echoes the address,
        # and logs must not carry personal data (the full answer is on the row for organisers).
        log.warning("mail: message %s failed for good (reply %s)", row.id, answer[:3] or "none")
        await self._record(
            row.id,
            {
                "status": OutboxStatus.failed,
                "attempts": row.attempts + 1,
                "claimed_until": None,
                "claimed_by": "",
                "last_error": answer[:2000],
                "payload": _without_secrets(row.payload),
            },
        )

    async def _retry(self, row: OutboxMessage, answer: str) -> bool:
        """Back off after a temporary failure; False when the attempts are used up."""
        attempts = row.attempts + 1
        if attempts >= self.options.max_attempts:
            await self._failed(row, f"gave up after {attempts} attempts: {answer}")
            return False
        await self._record(
            row.id,
            {
                "attempts": attempts,
                "next_attempt_at": self.clock.now() + self.options.backoff(attempts),
                "claimed_until": None,
                "claimed_by": "",
                "last_error": answer[:2000],
            },
        )
        return True

    async def _release(self, ids: Sequence[int], answer: str) -> None:
        if not ids:
            return
        async with unit_of_work(self.database.writer) as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == self.worker_id)
                .values(
                    claimed_until=None,
                    claimed_by="",
                    next_attempt_at=self.clock.now() + self.options.retry_base,
                    last_error=answer[:2000],
                )
                .execution_options(synchronize_session=False)
            )

    async def schedule(self) -> tuple[int, int]:
        """The scheduler step: queue due reminders and today's digests. (reminders, digests)"""
        limit = self.options.schedule_limit
        async with unit_of_work(self.database.writer) as session:
            reminders = await schedule_reminders(
                session, self.clock, secret=self.settings.secret(), limit=limit
            )
        async with unit_of_work(self.database.writer) as session:
            digests = await alerts.schedule_digests(
                session,
                self.clock,
                hour=self.options.digest_hour,
                zone=self.settings.timezone,
                limit=limit,
            )
        if reminders or digests:
            log.info("mail scheduler: queued %s reminders, %s digests", reminders, digests)
        await self.purge()
        return reminders, digests

    async def purge(self, *, force: bool = False) -> privacy.Purge | None:
        """The retention job (privacy.service.purge_expired), at most once per
        ``purge_every`` in this worker unless forced; safe alongside other workers."""
        now = self.clock.now()
        if not force and self._last_purge and now - self._last_purge < self.options.purge_every:
            return None
        self._last_purge = now
        async with unit_of_work(self.database.writer) as session:
            done = await privacy.purge_expired(
                session,
                self.clock,
                access_days=self.options.access_retention_days,
                registration_days=self.options.registration_retention_days,
            )
            # Rate-limit and sign-in counters long out of their windows: housekeeping.
            await throttle.purge(session, self.clock, older_than=dt.timedelta(days=1))
        if done.access_purged or done.registrations_erased:
            log.info(
                "retention: access requirements purged from %s registrations, %s registrations "
                "erased, %s mail records scrubbed",
                done.access_purged,
                done.registrations_erased,
                done.mail_records_scrubbed,
            )
        return done

    async def drain(
        self,
        on_batch: Callable[[BatchResult], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> BatchResult:
        """Run the scheduler step, then send everything due now, batch after batch; the
        totals. With ``stop`` set (SIGTERM), the batch in hand is finished and no other is
        claimed: a graceful shutdown leaves no message claimed by a worker that is gone."""
        if self.options.schedule:
            await self.schedule()
        total = BatchResult()
        while stop is None or not stop.is_set():
            result = await self.run_batch()
            if not result.claimed:
                return total
            total += result
            if on_batch is not None:
                on_batch(result)
        return total

    async def run(
        self, stop: asyncio.Event, on_batch: Callable[[BatchResult], None] | None = None
    ) -> None:
        """Until ``stop`` is set: drain, then wait ``poll_seconds``. An unexpected error is
        logged and retried after the pause, so one bad moment does not end the worker."""
        while not stop.is_set():
            try:
                await self.drain(on_batch, stop)
            except Exception:
                log.exception("mail worker %s: batch failed; retrying shortly", self.worker_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.options.poll_seconds)


__all__ = ["BatchResult", "InviteBuilder", "Worker", "WorkerOptions", "message_id"]
