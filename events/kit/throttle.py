"""Shared throttle counters: failed sign-ins, rate limits, failed secret-link lookups.

Counters live in the ``throttle_counters`` table, so every process and machine sees the
same numbers (an in-memory counter would give an attacker N processes times the limit).

A key (``"login:account:sam@union.example"``, ``"login:address:203.0.113.9"``) counts hits
within a window that starts at its first hit. A ``Policy`` says what the hits lead to:

* up to ``free`` hits in a window: nothing;
* each hit past ``free``: the key is blocked for ``backoff`` doubled once per extra hit
  (``backoff=None``: blocked until the window ends, i.e. a plain fixed-window rate limit);
* at ``lock_after`` hits: the key is locked for ``lock_for``.

``hit`` is a read-modify-write of one row under a row lock (``SELECT … FOR UPDATE`` on
PostgreSQL after an insert-if-missing; the writer's ``BEGIN IMMEDIATE`` on SQLite), so two
concurrent hits are both counted: a lost update would hand out free attempts.

Callers count a hit and then act on the verdict in the same transaction; services that
refuse something must still commit the hit (return the refusal, do not raise it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.jobs import Job
from events.kit.models import ThrottleCounter
from events.kit.signing import Signer

MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Policy:
    window: dt.timedelta
    free: int
    backoff: dt.timedelta | None = None
    lock_after: int | None = None
    lock_for: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def rate_limit(cls, limit: int, window: dt.timedelta) -> Policy:
        """At most ``limit`` hits per window; then blocked until the window ends."""
        return cls(window=window, free=limit)

    def blocked_until(
        self, hits: int, now: dt.datetime, started: dt.datetime
    ) -> dt.datetime | None:
        if self.lock_after is not None and hits >= self.lock_after:
            return now + self.lock_for
        if hits < self.free:
            return None
        if self.backoff is None:
            return started + self.window
        if hits == self.free:
            return None
        extra = hits - self.free - 1
        return now + min(self.backoff * (1 << min(extra, 20)), MAX_BACKOFF)


@dataclass(frozen=True)
class Verdict:
    hits: int
    retry_after: dt.timedelta | None  # None: not blocked
    locked: bool = False

    @property
    def blocked(self) -> bool:
        return self.retry_after is not None


def _insert_missing(session: AsyncSession, key: str, now: dt.datetime) -> Insert:
    values = {"key": key, "hits": 0, "window_started_at": now, "blocked_until": None}
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(ThrottleCounter).values(**values).on_conflict_do_nothing()
    return sqlite_insert(ThrottleCounter).values(**values).on_conflict_do_nothing()


async def _locked_row(session: AsyncSession, clock: Clock, key: str) -> ThrottleCounter:
    await session.execute(_insert_missing(session, key, clock.now()))
    row = (
        await session.execute(
            select(ThrottleCounter)
            .where(ThrottleCounter.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return row


async def hit(session: AsyncSession, clock: Clock, key: str, policy: Policy) -> Verdict:
    """Count one hit on ``key`` and say whether the key is now blocked, and for how long."""
    now = clock.now()
    row = await _locked_row(session, clock, key)
    blocked = row.blocked_until is not None and row.blocked_until > now
    if not blocked and (row.hits == 0 or row.window_started_at + policy.window <= now):
        row.hits, row.window_started_at = 0, now
    row.hits += 1
    until = policy.blocked_until(row.hits, now, row.window_started_at)
    if until is not None and (row.blocked_until is None or until > row.blocked_until):
        row.blocked_until = until
    await session.flush()
    locked = policy.lock_after is not None and row.hits >= policy.lock_after
    current = row.blocked_until if row.blocked_until and row.blocked_until > now else None
    return Verdict(hits=row.hits, retry_after=current - now if current else None, locked=locked)


async def blocked(session: AsyncSession, clock: Clock, key: str) -> dt.timedelta | None:
    """How long ``key`` stays blocked, or None when it may go ahead now."""
    until = (
        await session.execute(
            select(ThrottleCounter.blocked_until).where(ThrottleCounter.key == key)
        )
    ).scalar_one_or_none()
    now = clock.now()
    if until is None or until <= now:
        return None
    return until - now


async def hits(session: AsyncSession, key: str) -> int:
    """The hits counted in the key's current window (0 for an unknown key)."""
    found = (
        await session.execute(select(ThrottleCounter.hits).where(ThrottleCounter.key == key))
    ).scalar_one_or_none()
    return found or 0


async def reset(session: AsyncSession, clock: Clock, key: str) -> None:
    """Forget the key: no hits, not blocked."""
    await session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


async def purge(session: AsyncSession, clock: Clock, *, older_than: dt.timedelta) -> int:
    """Delete counters neither blocked nor hit within ``older_than`` (housekeeping)."""
    cutoff = clock.now() - older_than
    result = await session.execute(
        delete(ThrottleCounter).where(
            ThrottleCounter.window_started_at < cutoff,
            (ThrottleCounter.blocked_until.is_(None)) | (ThrottleCounter.blocked_until < cutoff),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


class RateLimiter:
    """Fixed windows: at most ``limit`` hits per key per window, counted in the database.

    Each hit is one short write transaction of its own, committed whatever the request
    goes on to do, so a refused or failing request still counts."""

    def __init__(
        self, *, enabled: bool, window_seconds: int, database: Database, clock: Clock
    ) -> None:
        self.enabled = enabled
        self.window = dt.timedelta(seconds=window_seconds)
        self.database = database
        self.clock = clock

    async def hit(
        self, key: str, limit: int, *, window: dt.timedelta | None = None
    ) -> float | None:
        """Count one hit; None when allowed, else seconds until the key may try again."""
        if not self.enabled:
            return None
        span = window or self.window
        policy = Policy.rate_limit(limit, span)
        async with unit_of_work(self.database.writer) as session:
            verdict = await hit(session, self.clock, f"rate:{key}", policy)
        if verdict.hits <= limit:
            return None
        if verdict.retry_after is None:
            return span.total_seconds()
        return max(verdict.retry_after.total_seconds(), 1.0)

    async def blocked(self, key: str) -> float | None:
        """Seconds ``key`` stays blocked without counting a hit, or None when it may go on."""
        if not self.enabled:
            return None
        async with unit_of_work(self.database.reader) as session:
            left = await blocked(session, self.clock, f"rate:{key}")
        return None if left is None else max(left.total_seconds(), 1.0)


async def _clean_up(session: AsyncSession, clock: Clock, settings: Settings, signer: Signer) -> int:
    # Rate-limit, secret-link and sign-in counters long out of their windows: housekeeping.
    return await purge(session, clock, older_than=dt.timedelta(days=1))


CLEAN_UP_JOB = Job(name="throttle_clean_up", run=_clean_up, every=dt.timedelta(hours=1))
