"""Export benchmark: stream an event's registrations as CSV and XLSX, reporting time, size
and the peak of traced Python memory (tracemalloc, so times are inflated several-fold).

    .venv/bin/python -m bench.export [--rows 100000] [--no-trace]

Builds a throwaway SQLite database by the migrations, fills one event with ``--rows``
registrations through the standard library's sqlite3, then drains each stream.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path

from events import lifecycle, schema
from events.catalog.fields import EventInput
from events.catalog.models import EventFormat, EventKind
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser import exports


async def run(rows: int, trace: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    path = folder / "bench_test.sqlite3"
    schema.upgrade(f"sqlite:///{path}")
    database = Database.from_url(f"sqlite:///{path}")
    clock = FrozenClock(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    async with unit_of_work(database.writer) as session:
        event = await lifecycle.create_event(
            session,
            clock,
            EventInput(
                title="Benchmark webinar",
                kind=EventKind.webinar,
                format=EventFormat.online,
                starts_at=clock.now() + dt.timedelta(days=7),
                ends_at=clock.now() + dt.timedelta(days=7, hours=1),
            ),
            publish=True,
        )
    now = clock.now().isoformat(sep=" ")
    started = time.monotonic()
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO registrations (event_id, name, email, membership_number, role, "
            "setting, access_requirements, access_details, consents, status, resend_count, "
            "attended, created_at, updated_at, confirmed_at) "
            "VALUES (?, ?, ?, '', '', '', ?, ?, ?, 'confirmed', 0, 0, ?, ?, ?)",
            (
                (
                    event.id,
                    f"Person {n}",
                    f"person{n}@example.org",
                    json.dumps(["live_captions"] if n % 7 == 0 else []),
                    "=1+1" if n % 1000 == 0 else "",
                    json.dumps(["privacy"]),
                    now,
                    now,
                    now,
                )
                for n in range(rows)
            ),
        )
    print(f"inserted {rows:,} rows in {time.monotonic() - started:.1f}s")
    for name, stream in (("csv", exports.csv_stream), ("xlsx", exports.xlsx_stream)):
        if trace:
            tracemalloc.start()
        started = time.monotonic()
        size = 0
        async for chunk in stream(database.reader, event):
            size += len(chunk)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
        print(
            f"{name}: {size / 1e6:.1f} MB in {elapsed:.1f}s"
            + (f", peak traced memory {peak / 1e6:.1f} MB" if trace else "")
        )
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.rows, not args.no_trace))


if __name__ == "__main__":
    main()
