"""Periodic work run by the worker process: each room declares its jobs (``Job``),
``events/wiring.py`` lists them, and ``JobRunner`` runs the due ones before each drain.

Crash safety: each run is its own transaction (committed or rolled back whole), and a job's
writes carry dedupe keys or are idempotent, so several workers running the same job at once
do no harm. ``every`` is how often one worker runs it (zero: on every loop).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.signing import Signer

log = logging.getLogger("events.jobs")

JobFunction = Callable[[AsyncSession, Clock, Settings, Signer], Awaitable[int]]
"""(session, clock, settings, signer) -> how many things it did (for the log)."""


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction
    every: dt.timedelta = dt.timedelta(0)


class JobRunner:
    def __init__(
        self,
        jobs: Sequence[Job],
        database: Database,
        clock: Clock,
        settings: Settings,
        *,
        signer: Signer,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.jobs = {job.name: job for job in jobs}
        self.database = database
        self.clock = clock
        self.settings = settings
        self.signer = signer
        self._last: dict[str, dt.datetime] = {}

    def _due(self, job: Job, now: dt.datetime) -> bool:
        last = self._last.get(job.name)
        return last is None or now - last >= job.every

    async def run(self, name: str, *, force: bool = False) -> int | None:
        """Run one job if it is due (or ``force``); how many things it did, None if not due."""
        job = self.jobs[name]
        now = self.clock.now()
        if not force and not self._due(job, now):
            return None
        self._last[name] = now
        async with unit_of_work(self.database.writer) as session:
            done = await job.run(session, self.clock, self.settings, self.signer)
        if done:
            log.info("job %s: %s done", name, done)
        return done

    async def run_due(self) -> dict[str, int]:
        """Every due job, each in its own transaction; a job that fails is logged and the
        others still run. The counts of those that ran."""
        results: dict[str, int] = {}
        for name in self.jobs:
            try:
                done = await self.run(name)
            except Exception:
                log.exception("job %s failed; it runs again on the next loop", name)
                self._last.pop(name, None)
                continue
            if done is not None:
                results[name] = done
        return results
