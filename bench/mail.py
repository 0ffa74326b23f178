"""Messages per second from the outbox to a local SMTP sink, as a ratio to a bare
``aiosmtplib`` loop sending the same messages in the same run.

    .venv/bin/python -m bench.mail [--messages 5000] [--kind confirmed] [--database sqlite]
                                   [--batch-size 50] [--profile]

1. A fresh database (SQLite file in a temporary folder, or PostgreSQL at EVENTS_BENCH_PG_URL,
   default postgresql://postgres@127.0.0.1:5432/events_bench_test, dropped and created again),
   migrated; one published online event; N outbox rows of ``--kind`` queued through
   ``mail.outbox.enqueue`` (``confirmed`` rows carry a management token and get the calendar
   invite, like real confirmations).
2. An aiosmtpd sink in this process (its own thread) that accepts everything and keeps the
   raw bytes.
3. ``Worker.drain()`` (claim, compose, send over one connection per batch, record each
   outcome in its own transaction): timed from the first claim to the last row recorded.
4. The bare loop: one aiosmtplib connection sending the very bytes the sink received from the
   worker, one ``sendmail`` after another, timed; run before and after the worker, averaged.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import pstats
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import events.models  # noqa: F401
from events import lifecycle, schema
from events.catalog.fields import EventInput
from events.catalog.models import EventFormat, EventKind
from events.clock import SystemClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.signing import Signer
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.mail.worker import WorkerOptions
from events.registration.messages import Confirmed, Waitlisted
from events.registration.models import RegistrationStatus
from events.wiring import worker as build_worker

PG_URL = os.environ.get(
    "EVENTS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/events_bench_test"
)
SENDER = "events@bench.example.org"


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.received.append((envelope.rcpt_tos[0], bytes(envelope.original_content or b"")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


async def _queue(database: Database, count: int, kind: str) -> None:
    clock = SystemClock()
    async with unit_of_work(database.writer) as session:
        starts = clock.now() + dt.timedelta(days=30)
        event = await lifecycle.create_event(
            session,
            clock,
            EventInput(
                title="Small group interventions: what works",
                kind=EventKind.webinar,
                format=EventFormat.online,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                joining_url="https://meet.example.org/room",
                organiser_name="Events team",
                organiser_email="organiser@example.org",
            ),
            publish=True,
        )
        event_id, event_slug, event_title = event.id, event.slug, event.title
    model = Confirmed if kind == "confirmed" else Waitlisted
    for start in range(0, count, 1000):
        async with unit_of_work(database.writer) as session:
            for n in range(start, min(start + 1000, count)):
                await enqueue(
                    session,
                    clock,
                    message=model(
                        event_id=event_id,
                        event_slug=event_slug,
                        event_title=event_title,
                        status=RegistrationStatus(kind),
                        name=f"Member {n}",
                        position=n + 1,
                        manage_token=f"bench-manage-token-{n:06d}",
                        join_token=f"bench-join-token-{n:06d}",
                        calendar_token=f"bench-calendar-token-{n:06d}",
                    ),
                    recipient=f"member{n}@example.org",
                    dedupe_key=f"bench:{n}",
                    event_id=event_id,
                )


async def _bare(port: int, messages: list[tuple[str, bytes]]) -> float:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    started = time.perf_counter()
    for recipient, data in messages:
        await smtp.sendmail(SENDER, [recipient], data)
    elapsed = time.perf_counter() - started
    await smtp.quit()
    return len(messages) / elapsed


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    if args.database == "postgres":
        url = PG_URL
        await _recreate_pg(url)
    else:
        url = f"sqlite:///{folder / 'bench_test.sqlite3'}"
    await asyncio.to_thread(schema.upgrade, url)
    database = Database.from_url(url)
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await _queue(database, args.messages, args.kind)
        settings = Settings(
            env="test",
            database_url=url,
            secret_key=SecretStr("bench-secret-bench-secret-bench-secret-00"),
            base_url="https://events.example.org",
            mail_url=f"smtp://127.0.0.1:{port}",
            mail_from=f"Union Events <{SENDER}>",
        )
        options = WorkerOptions(batch_size=args.batch_size, schedule=False)
        signer = Signer(settings.secret())
        worker = build_worker(database, SystemClock(), settings, signer=signer, options=options)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        total = await worker.drain()
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        async with database.reader() as session:
            sent = await session.scalar(
                select(func.count()).where(OutboxMessage.status == OutboxStatus.sent)
            )
        messages = list(sink.received)
        bare_before = await _bare(port, messages)
        bare_after = await _bare(port, messages)
        bare = (bare_before + bare_after) / 2
        rate = args.messages / elapsed
        return {
            "messages": args.messages,
            "kind": args.kind,
            "database": args.database,
            "sent": sent,
            "worker_result": total.line(),
            "worker_per_s": rate,
            "bare_per_s": bare,
            "bare_before": bare_before,
            "bare_after": bare_after,
            "ratio": rate / bare,
            "avg_bytes": sum(len(d) for _, d in messages) / max(len(messages), 1),
        }
    finally:
        controller.stop()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--kind", default="confirmed", choices=["confirmed", "waitlisted"])
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(
        f"{result['database']}, {result['messages']} x {result['kind']} "
        f"(~{result['avg_bytes'] / 1024:.1f} KiB each): worker {result['worker_result']}"
    )
    print(
        f"outbox worker  {result['worker_per_s']:8.0f} msg/s\n"
        f"bare aiosmtplib{result['bare_per_s']:8.0f} msg/s "
        f"(before {result['bare_before']:.0f}, after {result['bare_after']:.0f})\n"
        f"ratio          {result['ratio']:8.2f}"
    )


if __name__ == "__main__":
    main()
