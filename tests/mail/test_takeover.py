"""A crash delays nobody for long, with real worker processes (``events worker``) and the
real SMTP server. The lease is five minutes throughout; every takeover here happens long
before it ends:

- a worker killed (SIGKILL) while holding a batch: a worker started after it on the same
  host sends the batch at once, well inside the takeover window, each message once;
- a live worker with a fresh heartbeat is never robbed, however long its batch takes; once
  it is frozen (SIGSTOP: alive, but silent), another worker takes its batch over within
  three beats, and when it wakes up it sends none of that batch again.

The SMTP server holds the first delivery to one address (the DATA answer waits), so the
first worker is caught mid-batch at a known message, and then refuses that delivery: every
message is accepted exactly once, and the counts at the server say so.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from events.clock import FrozenClock
from events.db import Database
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.worker import pid_space
from tests.factories import Factory
from tests.mail.conftest import Recorder, SmtpServer, _serve
from tests.mail.test_crash_safety import queue_many, statuses, stop, wait_until

pytestmark = pytest.mark.committing

COUNT = 30
HELD = "person9@example.org"  # the tenth message of the batch
LEASE_SECONDS = 300


class HoldingRecorder(Recorder):
    """Holds the first delivery to ``HELD`` until told, then refuses it (451: not accepted,
    not recorded); every other delivery, and later ones to ``HELD``, are accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if HELD in envelope.rcpt_tos and not self.holding.is_set():
            self.holding.set()
            while not self.release.is_set():  # noqa: ASYNC110 - a thread's event
                await asyncio.sleep(0.02)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def holding_smtp() -> Iterator[SmtpServer]:
    recorder = HoldingRecorder()
    try:
        yield from _serve(recorder=recorder)
    finally:
        recorder.release.set()


def recorder_of(smtp: SmtpServer) -> HoldingRecorder:
    assert isinstance(smtp.recorder, HoldingRecorder)
    return smtp.recorder


def start_worker(
    database_url: str, smtp: SmtpServer, folder: Path, name: str, heartbeat: float
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env.update(
        {
            "EVENTS_DATABASE_URL": database_url,
            "EVENTS_MAIL_URL": smtp.url,
            "EVENTS_MAIL_FROM": "Events <events@example.org>",
            "EVENTS_SECRET_KEY": "takeover-test-secret-takeover-test-0123",
            "EVENTS_WORKER_BATCH_SIZE": "50",
            "EVENTS_WORKER_POLL_SECONDS": "0.1",
            "EVENTS_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "EVENTS_WORKER_HEARTBEAT_SECONDS": str(heartbeat),
            "EVENTS_LOG_LEVEL": "warning",
        }
    )
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "events", "worker"], cwd=folder, env=env, stdout=out, stderr=err
        )


async def wait_for_thread(event: threading.Event, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not event.is_set():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def claims(database: Database) -> Counter[str]:
    """Who holds the pending rows."""
    async with database.reader() as session:
        rows = await session.scalars(
            select(OutboxMessage.claimed_by).where(OutboxMessage.status == OutboxStatus.pending)
        )
        return Counter(rows)


async def all_sent(database: Database) -> bool:
    return (await statuses(database)).get(OutboxStatus.sent, 0) == COUNT


def assert_each_accepted_once(smtp: SmtpServer) -> None:
    accepted = Counter(r.recipients[0] for r in smtp.recorder.received)
    assert len(accepted) == COUNT, sorted(accepted)
    assert set(accepted.values()) == {1}, [a for a, n in accepted.items() if n > 1]


@pytest.mark.skipif(not pid_space(), reason="no PID namespace to compare on this system")
async def test_a_restarted_worker_sends_its_killed_predecessors_batch_at_once(
    database: Database,
    database_url: str,
    clock: FrozenClock,
    make: Factory,
    holding_smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Beats every 20 s: the killed worker's heartbeat stays fresh for a minute, so only
    # "same host, process gone" can explain a takeover inside that minute.
    heartbeat = 20.0
    event = await make.event("Crash course")
    await queue_many(database, clock, event.id, COUNT)
    recorder = recorder_of(holding_smtp)

    first = start_worker(database_url, holding_smtp, tmp_path, "first", heartbeat)
    try:
        await wait_for_thread(recorder.holding, 60)
        first.send_signal(signal.SIGKILL)  # mid-batch, waiting for the server's answer
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    held = await claims(database)
    assert sum(held.values()) == COUNT - 9 and len(held) == 1, held  # all still the dead one's
    assert next(iter(held)).split(":")[1] == str(first.pid)
    recorder.release.set()  # its answer goes nowhere: the connection is gone

    started = time.monotonic()
    second = start_worker(database_url, holding_smtp, tmp_path, "second", heartbeat)
    try:
        await wait_until(lambda: all_sent(database), 3 * heartbeat)
        took = time.monotonic() - started
    finally:
        stop(second)

    # Long before the lease (300 s), and before the dead worker's heartbeat went stale.
    assert took < 2 * heartbeat < LEASE_SECONDS, took
    assert_each_accepted_once(holding_smtp)


async def test_a_live_worker_is_never_robbed_and_a_frozen_one_sends_nothing_again(
    database: Database,
    database_url: str,
    clock: FrozenClock,
    make: Factory,
    holding_smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Takeover after 6 s of silence: a short test, with room for a loaded machine's delays.
    heartbeat = 2.0
    event = await make.event("Slow relay")
    await queue_many(database, clock, event.id, COUNT)
    recorder = recorder_of(holding_smtp)

    first = start_worker(database_url, holding_smtp, tmp_path, "first", heartbeat)
    second: subprocess.Popen[bytes] | None = None
    try:
        await wait_for_thread(recorder.holding, 60)
        second = start_worker(database_url, holding_smtp, tmp_path, "second", heartbeat)
        # The first worker is alive and beating, waiting on the relay: for longer than a
        # takeover window, nobody touches its batch.
        await asyncio.sleep(4 * heartbeat)
        assert second.poll() is None
        held = await claims(database)
        assert sum(held.values()) == COUNT - 9 and len(held) == 1, held
        assert next(iter(held)).split(":")[1] == str(first.pid)
        assert len(recorder.received) == 9

        first.send_signal(signal.SIGSTOP)  # alive, but its heartbeat stops
        started = time.monotonic()
        await wait_until(lambda: all_sent(database), 60)
        took = time.monotonic() - started
        assert took < LEASE_SECONDS / 10, took

        # The frozen worker wakes up to the relay's answer, with 20 messages of a batch that
        # is no longer its own still in hand: it sends none of them.
        recorder.release.set()
        first.send_signal(signal.SIGCONT)
        await asyncio.sleep(3 * heartbeat)
        assert first.poll() is None
    finally:
        recorder.release.set()
        if first.poll() is None:
            first.send_signal(signal.SIGCONT)
        stop(first)
        if second is not None:
            stop(second)

    assert_each_accepted_once(holding_smtp)
    assert await all_sent(database)
    assert "handing back" in (tmp_path / "first.err").read_text()
