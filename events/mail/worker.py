"""The outbox worker: claims due messages, has their rooms prepare them, sends them,
records the outcome. The only code that talks SMTP, and it knows no room's rules.

A batch, step by step:

1. **Claim** (one short transaction): mark up to ``batch_size`` due rows as ours until
   ``now + lease``. On PostgreSQL the candidate rows are selected ``FOR UPDATE SKIP
   LOCKED``, so simultaneous workers claim disjoint batches without waiting on each other;
   on SQLite the same conditional ``UPDATE ... WHERE id IN (due rows) RETURNING id`` runs
   under ``BEGIN IMMEDIATE``, one writer at a time. A row is due when pending, its
   ``next_attempt_at`` has come, and no live lease holds it: a worker that died mid-batch
   leaves leases that expire, and the rows are sent by whoever claims next.
2. **Read and dispatch**: each row's payload is parsed into its kind's model
   (``messages.Registry``; a payload that does not fit fails that row for good, with the
   reason), then each room's handler prepares all of its rows of the batch at once (a few
   queries): ``Skip`` with the reason (a reminder whose registration was cancelled, an alert
   for an event unpublished meanwhile ...), or the function composing the email.
3. **Send** over one transport connection (``transport.Transport``).
4. **Record** each outcome in its own transaction right after the server answers, so a crash
   re-sends at most the message in flight (with the same Message-ID):
   sent, skipped, retried with exponential back-off (4xx, connection trouble), or failed
   with the server's answer (5xx to RCPT TO or DATA, a message the relay cannot carry, or
   a row that cannot be composed). Each outcome is that message's alone: one refused
   recipient or one unusable row never stops the rest of the batch; only an unusable
   server (no connection) puts the rest back for later. Raw secrets (the
   models' ``secret_fields``) leave the payload once a row is finished with, and a message
   that asks for it (``Message.forget_recipient``) keeps neither address nor contents.

Before the batches, ``drain`` runs the due jobs (``events/jobs.py``; the list comes from
``events/wiring.py``): reminders, digests, retention ... each in its own transaction.
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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update

from events.clock import Clock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.jobs import Job, JobRunner
from events.kit.signing import Signer
from events.mail.compose import ComposeError, message_id
from events.mail.messages import (
    REMOVED,
    InvalidMessage,
    Message,
    MessageHandler,
    Prepared,
    Queued,
    Registry,
    SendContext,
    Skip,
)
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.transport import (
    DeliveryError,
    PermanentFailure,
    Transport,
    transport_from_url,
)

log = logging.getLogger("events.mail")


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 50
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_base: dt.timedelta = dt.timedelta(minutes=1)
    retry_max: dt.timedelta = dt.timedelta(hours=6)
    max_attempts: int = 10
    poll_seconds: float = 2.0
    # Run the due jobs (reminders, digests, retention ...) before each drain.
    schedule: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            batch_size=settings.worker_batch_size,
            lease=dt.timedelta(seconds=settings.worker_lease_seconds),
            retry_base=dt.timedelta(seconds=settings.mail_retry_base_seconds),
            retry_max=dt.timedelta(seconds=settings.mail_retry_max_seconds),
            max_attempts=settings.mail_max_attempts,
            poll_seconds=settings.worker_poll_seconds,
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


@dataclass
class _Item:
    """One claimed row: its message (None when the payload does not fit), and what its
    handler made of it."""

    row: OutboxMessage
    message: Message | None
    prepared: Prepared | None = None
    error: str = ""


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        *,
        signer: Signer,
        registry: Registry,
        jobs: Sequence[Job] = (),
        transport: Transport | None = None,
        options: WorkerOptions | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.signer = signer
        self.registry = registry
        self.jobs = JobRunner(jobs, database, clock, settings, signer=signer)
        self.transport = transport or transport_from_url(
            settings.mail_url, ca_file=settings.mail_ca_file
        )
        self.options = options or WorkerOptions.from_settings(settings)
        self.worker_id = worker_id or new_worker_id()
        # BEGIN IMMEDIATE on SQLite, as the writer sessions do.
        self._write_engine = database.engine.execution_options(sqlite_begin_immediate=True)

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

    async def _load(self, ids: Sequence[int]) -> list[_Item]:
        """The rows, parsed, each prepared by its kind's handler (one call per handler for
        all of its rows, so loading stays a few queries per batch)."""
        context = SendContext(
            base_url=self.settings.base_url,
            mail_from=self.settings.mail_from,
            signer=self.signer,
            now=self.clock.now(),
        )
        async with self.database.reader() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.id)
                )
            ).all()
            items: list[_Item] = []
            groups: dict[int, tuple[MessageHandler, list[tuple[_Item, Queued[Any]]]]] = {}
            for row in rows:
                try:
                    message = self.registry.parse(row.kind, row.payload)
                except InvalidMessage as exc:
                    items.append(_Item(row, None, error=str(exc)))
                    continue
                item = _Item(row, message)
                items.append(item)
                handler = self.registry.handler(message.kind)
                queued = Queued(row.id, row.recipient, message, row.dedupe_key, row.created_at)
                groups.setdefault(id(handler), (handler, []))[1].append((item, queued))
            for handler, members in groups.values():
                prepared = await handler.prepare(session, [q for _, q in members], context)
                for (item, _), outcome in zip(members, prepared, strict=True):
                    item.prepared = outcome
        return items

    async def run_batch(self) -> BatchResult:
        """Claim, send and record one batch. An empty result means nothing was due."""
        ids = await self.claim()
        if not ids:
            return BatchResult()
        items = await self._load(ids)
        sent = retried = failed = skipped = 0
        sender = self.settings.mail_from
        async with self.transport as transport:
            for index, item in enumerate(items):
                prepared = item.prepared
                if item.message is None or prepared is None:
                    await self._failed(item, item.error or "no handler prepared this message")
                    failed += 1
                    continue
                if isinstance(prepared, Skip):
                    await self._skipped(item, prepared.reason)
                    skipped += 1
                    continue
                try:
                    message = prepared()
                except ComposeError as exc:
                    await self._failed(item, str(exc))
                    failed += 1
                    continue
                except Exception as exc:
                    # A bug (a template, the invite builder), not the message's fault: back
                    # off, so a fixed release sends it; attempts still run out eventually.
                    log.exception("mail: cannot compose message %s", item.row.id)
                    if await self._retry(item, f"cannot compose: {exc!r}"):
                        retried += 1
                    else:
                        failed += 1
                    continue
                try:
                    await transport.send(message, sender=sender, recipient=item.row.recipient)
                except PermanentFailure as exc:
                    await self._failed(item, exc.answer)
                    failed += 1
                except DeliveryError as exc:
                    if await self._retry(item, exc.answer):
                        retried += 1
                    else:
                        failed += 1
                    if exc.connection:
                        # The server is unusable: put the rest back without counting a try.
                        rest = [i.row.id for i in items[index + 1 :]]
                        await self._release(rest, exc.answer)
                        retried += len(rest)
                        break
                except Exception as exc:
                    # A bug in sending this one message: it backs off on its own (its tries
                    # still run out) and the rest of the batch goes on, rather than the
                    # whole batch waiting out its lease and failing the same way again.
                    log.exception("mail: cannot send message %s", item.row.id)
                    if await self._retry(item, f"cannot send: {exc!r}"):
                        retried += 1
                    else:
                        failed += 1
                else:
                    await self._sent(item, str(message["Message-ID"]))
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

    def _finished(self, item: _Item) -> dict[str, Any]:
        """What a finished row keeps: no raw secrets; nothing of the person when the
        message asks for it."""
        if item.message is not None and item.message.forget_recipient():
            return {"recipient": REMOVED, "payload": {}}
        return {"payload": self.registry.without_secrets(item.row.payload)}

    async def _sent(self, item: _Item, sent_id: str) -> None:
        row = item.row
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
                **self._finished(item),
            },
        )

    async def _skipped(self, item: _Item, reason: str) -> None:
        row = item.row
        log.info("mail: message %s (%s) skipped: %s", row.id, row.kind, reason)
        await self._record(
            row.id,
            {
                "status": OutboxStatus.skipped,
                "claimed_until": None,
                "claimed_by": "",
                "last_error": reason,
                **self._finished(item),
            },
        )

    async def _failed(self, item: _Item, answer: str) -> None:
        row = item.row
        # No address, and only the reply's code: a server's answer often echoes the address,
        # and logs must not carry personal data (the full answer is on the row for organisers).
        code = answer[:3] if answer[:3].isdigit() else "none"
        log.warning("mail: message %s failed for good (reply %s)", row.id, code)
        await self._record(
            row.id,
            {
                "status": OutboxStatus.failed,
                "attempts": row.attempts + 1,
                "claimed_until": None,
                "claimed_by": "",
                "last_error": answer[:2000],
                **self._finished(item),
            },
        )

    async def _retry(self, item: _Item, answer: str) -> bool:
        """Back off after a temporary failure; False when the attempts are used up."""
        row = item.row
        attempts = row.attempts + 1
        if attempts >= self.options.max_attempts:
            await self._failed(item, f"gave up after {attempts} attempts: {answer}")
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

    async def schedule(self) -> dict[str, int]:
        """Run the due jobs, each in its own transaction; the counts of those that ran."""
        return await self.jobs.run_due()

    async def run_job(self, name: str, *, force: bool = False) -> int | None:
        """One job by name if due in this worker (or ``force``); None when not due."""
        return await self.jobs.run(name, force=force)

    async def drain(
        self,
        on_batch: Callable[[BatchResult], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> BatchResult:
        """Run the due jobs, then send everything due now, batch after batch; the
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


__all__ = ["BatchResult", "Worker", "WorkerOptions", "message_id"]
