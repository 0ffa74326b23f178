"""Worker heartbeats, in one process with a frozen clock: whose claims may be taken before
their lease ends (a heartbeat three beats old, a dead process on this host), and a worker
whose own heartbeat lapsed stops sending. Real processes killed and frozen:
``test_takeover.py``."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert, select, update

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage, OutboxStatus, WorkerHeartbeat
from events.mail.worker import WorkerOptions, pid_space
from tests.factories import Factory
from tests.mail.conftest import Recorder, SmtpServer, _serve
from tests.mail.helpers import OPTIONS, mail_worker
from tests.mail.test_crash_safety import queue_many

LEASE = OPTIONS.lease  # five minutes: every takeover below happens long before it ends
ELSEWHERE = "elsewhere.example.org|boot|pid:[1]"


async def hold(database: Database, clock: FrozenClock, worker_id: str) -> None:
    """Every pending row claimed by ``worker_id`` for the whole lease, as its claim() does."""
    async with unit_of_work(database.writer) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.pending)
            .values(claimed_by=worker_id, claimed_until=clock.now() + LEASE)
            .execution_options(synchronize_session=False)
        )


async def heartbeat(
    database: Database, worker_id: str, *, pid: int, space: str, at: dt.datetime
) -> None:
    async with unit_of_work(database.writer) as session:
        await session.execute(
            insert(WorkerHeartbeat).values(
                worker_id=worker_id,
                host=space.partition("|")[0],
                pid=pid,
                pid_space=space,
                started_at=at,
                beat_at=at,
            )
        )


async def claimed_by(database: Database) -> Counter[str]:
    async with database.reader() as session:
        rows = await session.scalars(
            select(OutboxMessage.claimed_by).where(OutboxMessage.status == OutboxStatus.pending)
        )
        return Counter(rows)


def delivered(smtp: SmtpServer) -> Counter[str]:
    return Counter(r.recipients[0] for r in smtp.recorder.received)


async def test_claims_are_taken_over_three_missed_beats_after_the_last(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    await queue_many(database, clock, event.id, 5)
    await hold(database, clock, "elsewhere:4242:abc")
    await heartbeat(database, "elsewhere:4242:abc", pid=4242, space=ELSEWHERE, at=clock.now())
    survivor = mail_worker(database, clock, settings, smtp.url)

    clock.advance(OPTIONS.heartbeat * 2)  # two beats missed: maybe a slow database
    assert (await survivor.drain()).claimed == 0
    assert await claimed_by(database) == {"elsewhere:4242:abc": 5}

    clock.advance(OPTIONS.heartbeat + dt.timedelta(seconds=1))  # three: it is gone
    result = await survivor.drain()

    assert (result.claimed, result.sent) == (5, 5)
    counts = delivered(smtp)
    assert len(counts) == 5 and set(counts.values()) == {1}


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process of this host that is running (another user's would do too)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


here = pytest.mark.skipif(not pid_space(), reason="no PID namespace to compare on this system")


@here
async def test_a_dead_predecessor_on_this_host_is_taken_over_at_once(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    dead_pid: int,
) -> None:
    event = await make.event()
    await queue_many(database, clock, event.id, 5)
    # Its last beat is fresh: only the pid tells that the process is gone.
    await hold(database, clock, f"this-host:{dead_pid}:abc")
    await heartbeat(
        database, f"this-host:{dead_pid}:abc", pid=dead_pid, space=pid_space(), at=clock.now()
    )

    result = await mail_worker(database, clock, settings, smtp.url).drain()

    assert (result.claimed, result.sent) == (5, 5)
    counts = delivered(smtp)
    assert len(counts) == 5 and set(counts.values()) == {1}


@here
async def test_a_predecessor_that_had_this_very_pid_is_taken_over_at_once(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    # A container restarted: the new worker often gets the dead one's pid.
    event = await make.event()
    await queue_many(database, clock, event.id, 3)
    await hold(database, clock, f"this-host:{os.getpid()}:old")
    await heartbeat(
        database, f"this-host:{os.getpid()}:old", pid=os.getpid(), space=pid_space(), at=clock.now()
    )

    assert (await mail_worker(database, clock, settings, smtp.url).drain()).sent == 3


@here
async def test_a_live_worker_with_a_fresh_heartbeat_is_never_robbed(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    live_pid: int,
) -> None:
    event = await make.event()
    await queue_many(database, clock, event.id, 3)
    owners = {
        "near:1:abc": (live_pid, pid_space()),  # on this host, running
        "far:2:abc": (os.getpid(), ELSEWHERE),  # on another host (its pid means nothing here)
    }
    for owner, (pid, space) in owners.items():
        await hold(database, clock, owner)
        await heartbeat(database, owner, pid=pid, space=space, at=clock.now())
        survivor = mail_worker(database, clock, settings, smtp.url)
        clock.advance(OPTIONS.heartbeat * 2)
        assert (await survivor.drain()).claimed == 0
        assert await claimed_by(database) == {owner: 3}
    assert smtp.recorder.received == []


class ClockMover(Recorder):
    """Accepts everything; while accepting the ``at``-th message, moves the worker's frozen
    clock on by ``by``: as if the worker had been stuck that long (its heartbeat with it)."""

    def __init__(self, clock: FrozenClock, at: int, by: dt.timedelta) -> None:
        super().__init__()
        self.clock, self.at, self.by = clock, at, by

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.at:
            self.clock.advance(self.by)
        return answer


@pytest.fixture
def stuck_smtp(clock: FrozenClock) -> Iterator[SmtpServer]:
    recorder = ClockMover(clock, at=2, by=OPTIONS.heartbeat * 2 + dt.timedelta(seconds=1))
    yield from _serve(recorder=recorder)


async def test_a_worker_whose_heartbeat_lapsed_stops_sending_its_batch(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    stuck_smtp: SmtpServer,
) -> None:
    event = await make.event()
    await queue_many(database, clock, event.id, 5)
    mailer = mail_worker(database, clock, settings, stuck_smtp.url)

    first = await mailer.run_batch()

    # After the second message its heartbeat is older than the send window: another
    # worker may take the batch over any moment, so it sends no more of it ...
    assert (first.claimed, first.sent, first.returned) == (5, 2, 3)
    assert await claimed_by(database) == {"": 3}  # ... and hands back what is still its own
    second = await mailer.run_batch()  # a fresh heartbeat first, then a batch of its own
    assert (second.claimed, second.sent) == (3, 3)
    counts = delivered(stuck_smtp)
    assert len(counts) == 5 and set(counts.values()) == {1}


async def test_a_stale_worker_records_nothing_over_the_worker_that_took_over(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    await queue_many(database, clock, event.id, 1)
    stale = mail_worker(database, clock, settings, smtp.url, worker_id="stale")
    [row_id] = await stale.claim()
    await hold(database, clock, "survivor")  # its heartbeat stopped; another took over

    # The stale worker, back, still thinks the row is its own: its outcome is dropped.
    await stale._record(row_id, {"status": OutboxStatus.failed, "attempts": 7})

    async with database.reader() as session:
        row = await session.get_one(OutboxMessage, row_id)
    assert (row.status, row.attempts, row.claimed_by) == (OutboxStatus.pending, 0, "survivor")


def test_the_takeover_window_is_three_beats_and_sending_stops_one_beat_before() -> None:
    options = WorkerOptions(heartbeat=dt.timedelta(seconds=10))
    assert options.takeover == dt.timedelta(seconds=30)
    assert options.send_window == dt.timedelta(seconds=20)
    assert WorkerOptions.from_settings(
        Settings(worker_heartbeat_seconds=4)
    ).takeover == dt.timedelta(seconds=12)
