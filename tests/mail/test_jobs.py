"""Periodic work: room-owned jobs listed in one place, each run in its own transaction, at
most as often as it asks, by the worker process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock, FrozenClock
from events.config import Settings
from events.db import Database
from events.kit.jobs import Job, JobRunner
from events.kit.signing import Signer
from events.mail.models import OutboxMessage
from events.mail.outbox import enqueue
from events.registration.messages import Confirmed
from events.wiring import JOBS
from tests.factories import TEST_SIGNER


def test_the_worker_runs_every_rooms_jobs() -> None:
    assert [job.name for job in JOBS] == ["reminders", "digests", "retention", "throttle_clean_up"]
    every = {job.name: job.every for job in JOBS}
    assert every["retention"] == dt.timedelta(hours=1), "retention at most hourly per worker"


async def _queue(session: AsyncSession, clock: Clock, key: str) -> None:
    await enqueue(
        session, clock, message=Confirmed(event_id=1), recipient="a@example.org", dedupe_key=key
    )


async def _kept(database: Database) -> list[str]:
    async with database.reader() as session:
        return list((await session.scalars(select(OutboxMessage.dedupe_key))).all())


async def test_each_job_runs_in_its_own_transaction_and_a_failure_stops_no_other(
    database: Database, clock: FrozenClock, settings: Settings
) -> None:
    async def broken(
        session: AsyncSession, clock: Clock, settings: Settings, signer: Signer
    ) -> int:
        await _queue(session, clock, "broken")
        raise RuntimeError("a bug in one job")

    async def fine(session: AsyncSession, clock: Clock, settings: Settings, signer: Signer) -> int:
        await _queue(session, clock, "fine")
        return 1

    runner = JobRunner(
        [Job(name="broken", run=broken), Job(name="fine", run=fine)],
        database,
        clock,
        settings,
        signer=TEST_SIGNER,
    )

    assert await runner.run_due() == {"fine": 1}
    assert await _kept(database) == ["fine"], "the broken job's writes rolled back"
    assert await runner.run_due() == {"fine": 1}, "the broken job is tried again next loop"


async def test_a_job_runs_at_most_as_often_as_it_asks(
    database: Database, clock: FrozenClock, settings: Settings
) -> None:
    runs: list[dt.datetime] = []

    async def hourly(
        session: AsyncSession, clock: Clock, settings: Settings, signer: Signer
    ) -> int:
        runs.append(clock.now())
        return 0

    runner = JobRunner(
        [Job(name="hourly", run=hourly, every=dt.timedelta(hours=1))],
        database,
        clock,
        settings,
        signer=TEST_SIGNER,
    )
    assert await runner.run_due() == {"hourly": 0}
    clock.advance(dt.timedelta(minutes=59))
    assert await runner.run_due() == {}
    assert await runner.run("hourly", force=True) == 0
    clock.advance(dt.timedelta(hours=1))
    assert await runner.run_due() == {"hourly": 0}
    assert len(runs) == 3
