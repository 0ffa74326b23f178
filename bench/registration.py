"""Registrations per second with 200 concurrent clients, on SQLite and PostgreSQL.

Each backend's figure is also given as a ratio to a minimal atomic-insert baseline measured
in the same run on the same database (one single-row INSERT per transaction, same
concurrency), so machines can be compared. The overbooking count must be 0.

    .venv/bin/python bench/registration.py [--registrations 1000] [--clients 200] [--no-postgres]

PostgreSQL: EVENTS_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/events_bench_test);
the database is dropped and created again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

import events.models  # noqa: F401
from events import lifecycle, schema
from events.app import create_app
from events.catalog.fields import EventInput
from events.catalog.models import Event, EventFormat, EventKind
from events.clock import SystemClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.registration.models import Registration, RegistrationStatus

PG_URL = os.environ.get(
    "EVENTS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/events_bench_test"
)


async def _recreate_pg(url: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            parsed.database,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
        await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def _baseline(database: Database, count: int, clients: int) -> float:
    """Inserts per second: one atomic single-row INSERT per write transaction."""
    serial = "SERIAL" if database.engine.dialect.name == "postgresql" else "INTEGER"
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        await conn.execute(
            text(f"CREATE TABLE bench_baseline (id {serial} PRIMARY KEY, n INTEGER)")
        )
    gate = asyncio.Semaphore(clients)

    async def one(n: int) -> None:
        async with gate, unit_of_work(database.writer) as session:
            await session.execute(text("INSERT INTO bench_baseline (n) VALUES (:n)"), {"n": n})

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


async def _run(url: str, count: int, clients: int) -> dict[str, float]:
    settings = Settings(
        env="test",
        database_url=url,
        secret_key="bench-secret-bench-secret-bench-secret-bench",
        rate_limit_enabled=False,
        page_cache_seconds=1,
    )
    database = Database.from_url(url, pool_size=20)
    clock = SystemClock()
    capacity = count // 2
    async with unit_of_work(database.writer) as session:
        now = clock.now()
        event = await lifecycle.create_event(
            session,
            clock,
            EventInput(
                title=f"Bench {time.time_ns()}",
                kind=EventKind.webinar,
                format=EventFormat.online,
                starts_at=now.replace(year=now.year + 1),
                ends_at=now.replace(year=now.year + 1, hour=(now.hour + 1) % 24)
                if now.hour < 23
                else now.replace(year=now.year + 1, minute=59, second=59),
                capacity=capacity,
                waiting_list_enabled=True,
            ),
            publish=True,
        )
    app = create_app(settings, clock=clock, database=database)
    transport = httpx.ASGITransport(app=app)
    gate = asyncio.Semaphore(clients)
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def one(n: int) -> None:
            async with gate:
                response = await client.post(
                    f"/api/v1/events/{event.slug}/registrations",
                    json={"name": f"Bench {n}", "email": f"bench{n}@example.org"},
                )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
    async with database.reader() as session:
        confirmed = (
            await session.execute(
                select(func.count(Registration.id)).where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus.confirmed,
                )
            )
        ).scalar_one()
        left = (
            await session.execute(select(Event.places_left).where(Event.id == event.id))
        ).scalar_one()
    baseline = await _baseline(database, count, clients)
    await database.dispose()
    overbooked = max(0, confirmed - capacity) + (0 if (left or 0) == capacity - confirmed else 1)
    return {
        "per_second": count / elapsed,
        "baseline": baseline,
        "ratio": (count / elapsed) / baseline,
        "overbooked": overbooked,
        "errors": sum(v for k, v in statuses.items() if k != 201),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    runs: list[tuple[str, str]] = []
    folder = Path(tempfile.mkdtemp())
    runs.append(("SQLite", f"sqlite:///{folder / 'bench_test.sqlite3'}"))
    if not args.no_postgres:
        runs.append(("PostgreSQL", PG_URL))
    print(f"{args.registrations} registrations, {args.clients} concurrent clients, through the app")
    for name, url in runs:
        if url.startswith("postgresql"):
            asyncio.run(_recreate_pg(url))
        schema.upgrade(url)
        result = asyncio.run(_run(url, args.registrations, args.clients))
        print(
            f"{name:<11} {result['per_second']:8.0f} registrations/s | baseline "
            f"{result['baseline']:8.0f} inserts/s | ratio {result['ratio']:.2f} | "
            f"overbooked {result['overbooked']:.0f} | non-201 answers {result['errors']:.0f}"
        )


if __name__ == "__main__":
    main()
