"""The outbox worker: claims due messages, has their rooms prepare them, sends them,
records the outcome. The only code that talks SMTP, and it knows no room's rules.

A batch, step by step:

1. **Claim** (one short transaction): mark up to ``batch_size`` due rows as ours until
   ``now + lease``. On PostgreSQL the candidate rows are selected ``FOR UPDATE SKIP
   LOCKED``, so simultaneous workers claim disjoint batches without waiting on each other;
   on SQLite the same conditional ``UPDATE ... WHERE id IN (due rows) RETURNING id`` runs
   under ``BEGIN IMMEDIATE``, one writer at a time. A row is due when pending, its
   ``next_attempt_at`` has come, and no live worker holds it (below).
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

**Heartbeats: a crash delays nobody for long.** Every worker keeps a row in
``worker_heartbeats`` (host, pid, where that pid means something, start, last beat) and
rewrites it every ``heartbeat`` (``EVENTS_WORKER_HEARTBEAT_SECONDS``, 10 s) in a short
transaction of its own; the first beat is written before it claims anything, and the row
is deleted when it stops. Another worker's claim may be taken (the claim's ``WHERE``) when:

- its lease (``claimed_until``) has passed, as before; or
- the claimer's last beat is ``takeover`` old (three beats, 30 s): it stopped beating; or
- the claimer ran in the same PID namespace of the same boot of this host and the kernel
  says its pid is gone (``os.kill(pid, 0)``), or it had this very pid and is not one of
  this process's workers: a restarted worker takes back its dead predecessor's claims at
  once. Only a definite "no such process" counts: a zombie or a recycled pid looks alive,
  and then the heartbeat's age decides. A claimer without a heartbeat row (an older
  release) keeps its lease.

Why no message goes twice while its first sender may still be alive: a worker sends only
while its own last beat is younger than ``send_window`` (two beats) and its lease has
``lease_margin`` left; a send in flight is cut off the moment that stops being true, and a
batch claimed before a lapse (a beat found older than the window when finally renewed, or
its row swept away) is abandoned, whatever the later beats say. So a worker whose beats
stop (process frozen, database unreachable, event loop blocked) stops transmitting a full
beat interval before anyone may take its claims, and the rows it still holds are handed
back. Outcomes are fenced too: a row is recorded only while ``claimed_by`` is this worker,
so a stale worker's late answer never overwrites or double-counts the one that took over.
(Clocks: beats and leases are compared across machines, so their clocks must agree to well
within a beat, as NTP keeps them.)

What remains is the classic case no outbox escapes: the relay accepted a message (or had it
in full when its sender froze) but the process died, or lost the database, before the row
was marked sent. The message then goes once more, with the same Message-ID, so most
receiving systems drop the copy. Heartbeat rows not renewed for a day (or two leases) are
swept by the beating workers.

Before the batches, ``drain`` runs the due jobs (``events/jobs.py``; the list comes from
``events/wiring.py``): reminders, digests, retention ... each in its own transaction, so
a crash rolls a run back whole and leaves no claim for anyone to wait out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

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
from events.mail.models import OutboxMessage, OutboxStatus, WorkerHeartbeat
from events.mail.transport import (
    DeliveryError,
    PermanentFailure,
    Transport,
    transport_from_url,
)

log = logging.getLogger("events.mail")

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 50
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_base: dt.timedelta = dt.timedelta(minutes=1)
    retry_max: dt.timedelta = dt.timedelta(hours=6)
    max_attempts: int = 10
    poll_seconds: float = 2.0
    # How often this worker writes its heartbeat (see the module's docstring).
    heartbeat: dt.timedelta = dt.timedelta(seconds=10)
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
            heartbeat=dt.timedelta(seconds=settings.worker_heartbeat_seconds),
        )

    @property
    def takeover(self) -> dt.timedelta:
        """A claimer whose heartbeat is this old (three missed beats) is taken for dead."""
        return self.heartbeat * 3

    @property
    def send_window(self) -> dt.timedelta:
        """A worker sends only while its own last heartbeat is younger than this: one beat
        interval before anyone may take its claims over."""
        return self.heartbeat * 2

    @property
    def lease_margin(self) -> dt.timedelta:
        """A worker stops sending its batch this long before its lease ends."""
        return min(self.heartbeat, self.lease / 10)

    @property
    def heartbeat_kept(self) -> dt.timedelta:
        """Heartbeat rows this old are deleted: their workers are long gone, and any claim
        they left has expired by then."""
        return max(dt.timedelta(days=1), self.lease * 2)

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
    # Claimed but not tried: handed back because this worker's heartbeat lapsed or its
    # lease ran short (another worker may have them by now).
    returned: int = 0

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.claimed + other.claimed,
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.skipped + other.skipped,
            self.returned + other.returned,
        )

    def line(self) -> str:
        text = (
            f"claimed {self.claimed}, sent {self.sent}, retried {self.retried}, "
            f"failed {self.failed}"
        )
        text += f", skipped {self.skipped}" if self.skipped else ""
        return text + (f", handed back {self.returned}" if self.returned else "")


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def pid_space() -> str:
    """Where this process's pid means something: the host name, the running kernel's boot
    and the PID namespace (two containers with one host name have different namespaces; a
    reboot has a new boot id). Two workers with the same non-empty value can ask the kernel
    whether the other's pid runs. Empty where that cannot be told (not Linux, /proc hidden).
    """
    if os.name != "posix":
        return ""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{socket.gethostname()}|{boot}|{namespace}"[:255]


# Workers running (beating) in this process, by id: a heartbeat row with this process's
# pid and an id not in here was left by a dead predecessor that had the same pid.
_LIVE_HERE: set[str] = set()


def _process_alive(pid: int, worker_id: str) -> bool:
    """Whether the process ``pid`` of this pid space may still be the worker ``worker_id``.
    Only a definite "no such process" says no; a zombie, another user's process or a
    recycled pid says yes (then the heartbeat's age decides)."""
    if pid == os.getpid():
        return worker_id in _LIVE_HERE
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the pid exists
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class _HeartbeatLapsed(Exception):
    """This worker's heartbeat or lease no longer covers sending: stop the batch."""


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
        self._pid_space = pid_space()
        self._started_at: dt.datetime | None = None
        # The clock's time in our last heartbeat the database took, and how many times a
        # heartbeat was found to have lapsed (a batch claimed before a lapse is not ours to
        # finish: someone may have taken it over meanwhile).
        self._beat_at: dt.datetime | None = None
        self._lapses = 0
        self._swept_at: dt.datetime | None = None
        self._beating_depth = 0
        self._lease_ends: dt.datetime | None = None

    async def beat(self) -> None:
        """Write this worker's heartbeat (one short transaction of its own)."""
        now = self.clock.now()
        previous = self._beat_at
        async with self._write_engine.begin() as connection:
            written = await connection.execute(
                update(WorkerHeartbeat)
                .where(WorkerHeartbeat.worker_id == self.worker_id)
                .values(beat_at=now)
            )
            if not written.rowcount:
                if previous is not None:
                    # Our row was swept away: others took us for long dead.
                    self._lapses += 1
                self._started_at = self._started_at or now
                await connection.execute(
                    insert(WorkerHeartbeat).values(
                        worker_id=self.worker_id,
                        host=socket.gethostname()[:255],
                        pid=os.getpid(),
                        pid_space=self._pid_space,
                        started_at=self._started_at,
                        beat_at=now,
                    )
                )
            if self._swept_at is None or now - self._swept_at >= dt.timedelta(hours=1):
                await connection.execute(
                    delete(WorkerHeartbeat).where(
                        WorkerHeartbeat.beat_at < now - self.options.heartbeat_kept
                    )
                )
                self._swept_at = now
        if previous is not None and now - previous > self.options.send_window:
            self._lapses += 1
            log.warning(
                "mail worker %s: heartbeat lapsed for %ss; its claims may be another's",
                self.worker_id,
                int((now - previous).total_seconds()),
            )
        self._beat_at = now

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat.total_seconds())
            try:
                await self.beat()
            except Exception:
                log.warning("mail worker %s: cannot write heartbeat", self.worker_id, exc_info=True)

    @contextlib.asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        """Keep this worker's heartbeat while inside (re-entrant). The first beat is written
        before anything is claimed; on the way out the row is deleted."""
        if self._beating_depth:
            self._beating_depth += 1
            try:
                yield
            finally:
                self._beating_depth -= 1
            return
        await self.beat()
        self._beating_depth = 1
        _LIVE_HERE.add(self.worker_id)
        task = asyncio.create_task(self._beat_forever(), name=f"heartbeat {self.worker_id}")
        try:
            yield
        finally:
            self._beating_depth = 0
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            _LIVE_HERE.discard(self.worker_id)
            self._beat_at = None
            try:
                async with self._write_engine.begin() as connection:
                    await connection.execute(
                        delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id)
                    )
            except Exception:
                log.warning("mail worker %s: cannot delete heartbeat", self.worker_id)

    async def _takeable(self, session: AsyncSession, now: dt.datetime) -> list[str]:
        """The other workers whose claims may be taken before their lease ends: their
        heartbeat is ``takeover`` old, or they ran on this host and their process is gone."""
        rows = (
            await session.execute(
                select(
                    WorkerHeartbeat.worker_id,
                    WorkerHeartbeat.pid,
                    WorkerHeartbeat.pid_space,
                    WorkerHeartbeat.beat_at,
                )
            )
        ).all()
        takeable: list[str] = []
        for worker_id, pid, space, beat_at in rows:
            if worker_id == self.worker_id:
                continue
            stale = beat_at <= now - self.options.takeover
            here = bool(space) and space == self._pid_space
            if stale or (here and not _process_alive(pid, worker_id)):
                takeable.append(worker_id)
        return takeable

    async def claim(self) -> list[int]:
        """Lease up to ``batch_size`` due rows to this worker; their ids, oldest first."""
        now = self.clock.now()
        async with unit_of_work(self.database.writer) as session:
            free = [OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now]
            takeable = await self._takeable(session, now)
            if takeable:
                free.append(OutboxMessage.claimed_by.in_(takeable))
            ids = sorted((await session.scalars(self._claim(now, or_(*free)))).all())
        if takeable and ids:
            log.info("mail worker %s: may take over claims of %s", self.worker_id, takeable)
        return ids

    def _claim(self, now: dt.datetime, free: ColumnElement[bool]) -> ReturningUpdate[int]:
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.next_attempt_at <= now,
                free,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.options.batch_size)
            # PostgreSQL: skip rows another worker is claiming right now (SQLite: no-op;
            # BEGIN IMMEDIATE already makes this transaction the only writer).
            .with_for_update(skip_locked=True)
        )
        return (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + self.options.lease, claimed_by=self.worker_id)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )

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

    def _sending_ends(self, lapses: int) -> dt.datetime | None:
        """Until when this worker may go on sending the batch it claimed when its heartbeat
        had lapsed ``lapses`` times; None when it may not any more."""
        if self._beat_at is None or self._lease_ends is None or self._lapses != lapses:
            return None
        ends = min(
            self._beat_at + self.options.send_window,
            self._lease_ends - self.options.lease_margin,
        )
        return ends if self.clock.now() < ends else None

    async def _send_covered(self, lapses: int, send: Callable[[], Awaitable[T]]) -> T:
        """``send``, started only while the heartbeat (and the lease) cover it, and cut off
        as soon as they stop covering it: a slow send goes on as long as the beats do."""
        if self._sending_ends(lapses) is None:
            raise _HeartbeatLapsed
        task = asyncio.ensure_future(send())
        try:
            while True:
                ends = self._sending_ends(lapses)
                if ends is None:
                    raise _HeartbeatLapsed
                wait = min((ends - self.clock.now()).total_seconds(), 1.0)
                done, _ = await asyncio.wait({task}, timeout=max(wait, 0.01))
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def run_batch(self) -> BatchResult:
        """Claim, send and record one batch. An empty result means nothing was due."""
        async with self.beating():
            return await self._run_batch()

    async def _run_batch(self) -> BatchResult:
        if self._beat_at is None or self.clock.now() - self._beat_at >= self.options.heartbeat:
            await self.beat()  # the heartbeat task is late: claim nothing on a stale beat
        lapses = self._lapses
        # No later than the lease claim() writes (it reads the clock after this).
        self._lease_ends = self.clock.now() + self.options.lease
        ids = await self.claim()
        if not ids:
            return BatchResult()
        items = await self._load(ids)
        sent = retried = failed = skipped = returned = 0
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
                    await self._send_covered(
                        lapses,
                        functools.partial(
                            transport.send, message, sender=sender, recipient=item.row.recipient
                        ),
                    )
                except _HeartbeatLapsed:
                    # Someone may have taken this batch over: stop, and hand back what is
                    # still ours (a row taken over meanwhile is not touched).
                    rest = [i.row.id for i in items[index:]]
                    log.warning(
                        "mail worker %s: heartbeat or lease lapsed; handing back %s messages",
                        self.worker_id,
                        len(rest),
                    )
                    with contextlib.suppress(Exception):
                        await self._give_back(rest)
                    returned += len(rest)
                    break
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
            claimed=len(ids),
            sent=sent,
            retried=retried,
            failed=failed,
            skipped=skipped,
            returned=returned,
        )
        log.info("mail worker %s: %s", self.worker_id, result.line())
        return result

    async def _record(self, row_id: int, values: dict[str, Any]) -> None:
        # One short write transaction per outcome, on a Core connection (no ORM session to
        # build and tear down for each message: about a third of the per-message cost).
        async with self._write_engine.begin() as connection:
            await connection.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == OutboxStatus.pending,
                    # Fenced: a row another worker took over (this one's heartbeat lapsed)
                    # is that worker's to record.
                    OutboxMessage.claimed_by == self.worker_id,
                )
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

    async def _give_back(self, ids: Sequence[int]) -> None:
        """Unclaim the rows still ours, due at once, without counting a try."""
        async with self._write_engine.begin() as connection:
            await connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == self.worker_id)
                .values(claimed_until=None, claimed_by="")
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
        async with self.beating():
            while stop is None or not stop.is_set():
                result = await self.run_batch()
                if not result.claimed:
                    return total
                total += result
                if on_batch is not None:
                    on_batch(result)
                if result.returned:
                    break  # the heartbeat is in trouble: wait a poll before claiming again
        return total

    async def run(
        self, stop: asyncio.Event, on_batch: Callable[[BatchResult], None] | None = None
    ) -> None:
        """Until ``stop`` is set: drain, then wait ``poll_seconds``. An unexpected error is
        logged and retried after the pause, so one bad moment does not end the worker."""
        while not stop.is_set():
            try:
                async with self.beating():
                    await self._loop(stop, on_batch)
            except Exception:
                # The first heartbeat could not be written (the database is away).
                log.exception("mail worker %s: cannot start; retrying shortly", self.worker_id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.options.poll_seconds)

    async def _loop(
        self, stop: asyncio.Event, on_batch: Callable[[BatchResult], None] | None
    ) -> None:
        while not stop.is_set():
            try:
                await self.drain(on_batch, stop)
            except Exception:
                log.exception("mail worker %s: batch failed; retrying shortly", self.worker_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.options.poll_seconds)


__all__ = ["BatchResult", "Worker", "WorkerOptions", "message_id"]
