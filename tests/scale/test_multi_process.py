"""National scale, shown: two app processes and two mail workers on one PostgreSQL, sharing
nothing but the database (SPEC, Scale; issue 8).

Many clients register at once through both app processes for an event with few places;
then we count: the places given never exceed capacity, the waiting list is numbered in
one sequence without gaps or repeats, each process's page cache catches up with the other's
writes within its lifetime, and the two workers deliver every queued email exactly once
(counted at a real SMTP server by Message-ID).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from events.db import Database
from events.mail.models import OutboxMessage, OutboxStatus
from events.registration.models import Registration, RegistrationStatus
from tests.factories import TEST_SECRET, Factory
from tests.mail.conftest import Recorder, free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

CAPACITY = 15
CLIENTS = 60


def _environment(database_url: str, smtp_port: int, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env.update(
        EVENTS_ENV="production",
        EVENTS_SECRET_KEY=TEST_SECRET,
        EVENTS_DATABASE_URL=database_url,
        EVENTS_MAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        EVENTS_MAIL_FROM="Union events <events@union.example.org>",
        EVENTS_WORKER_IN_PROCESS="false",
        EVENTS_WORKER_POLL_SECONDS="0.2",
        EVENTS_RATE_LIMIT_ENABLED="false",
        EVENTS_PAGE_CACHE_SECONDS="1",
    )
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "events", *args],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=30)


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app process exited:\n{log.read_text()}")
        try:
            if httpx.get(base_url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"app process did not become ready:\n{log.read_text()}")


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, int]]:
    found = Recorder()
    port = free_port()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield found, port
    finally:
        controller.stop()


async def _pending(database: Database) -> int:
    async with database.reader() as session:
        return int(
            (
                await session.execute(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status == OutboxStatus.pending
                    )
                )
            ).scalar_one()
        )


async def test_two_apps_and_two_workers_share_only_the_database(
    database: Database,
    database_url: str,
    make: Factory,
    recorder: tuple[Recorder, int],
    tmp_path: Path,
) -> None:
    smtp, smtp_port = recorder
    # The processes run on the real clock, not the tests' frozen one.
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    event = await make.event(
        "Scale test",
        capacity=CAPACITY,
        waiting_list_enabled=True,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
    )
    env = _environment(database_url, smtp_port, tmp_path)
    ports = [free_port(), free_port()]
    apps = [f"http://127.0.0.1:{port}" for port in ports]

    with ExitStack() as stack:
        processes: list[subprocess.Popen[bytes]] = []
        for index, port in enumerate(ports):
            log = tmp_path / f"app{index}.log"
            app_env = {**env, "EVENTS_BASE_URL": apps[index]}
            process = _start(["serve", "--port", str(port)], app_env, log)
            processes.append(process)
            stack.callback(_stop, process)
            _wait_until_serving(apps[index], process, log)

        # Both processes have the event page cached before anyone registers.
        async with httpx.AsyncClient(timeout=30) as client:
            for base in apps:
                page = await client.get(f"{base}/events/{event.slug}")
                assert f"{CAPACITY} places left" in page.text

            async def one(i: int) -> int:
                response = await client.post(
                    f"{apps[i % 2]}/api/v1/events/{event.slug}/registrations",
                    json={"name": f"Person {i}", "email": f"p{i}@scale.example"},
                )
                return response.status_code

            statuses = await asyncio.gather(*(one(i) for i in range(CLIENTS)))
        assert set(statuses) <= {200, 201}, Counter(statuses)

        async with database.reader() as session:
            rows = list(
                (
                    await session.execute(
                        select(Registration).where(Registration.event_id == event.id)
                    )
                ).scalars()
            )
        confirmed = [r for r in rows if r.status == RegistrationStatus.confirmed]
        waiting = sorted(
            r.waiting_list_number or 0 for r in rows if r.status == RegistrationStatus.waitlisted
        )
        assert len(rows) == CLIENTS
        assert len(confirmed) == CAPACITY, "never more places than capacity, and none lost"
        assert waiting == list(range(1, CLIENTS - CAPACITY + 1)), "one queue, no gaps"

        # Each process's page cache lives one second: both now say the event is full.
        await asyncio.sleep(1.2)
        async with httpx.AsyncClient(timeout=30) as client:
            for base in apps:
                page = await client.get(f"{base}/events/{event.slug}")
                assert "waiting list" in page.text.lower()
                assert f"{CAPACITY} places left" not in page.text

        # Two workers drain the outbox together.
        # Production needs the public address (issue 13 item 15); in a deployment it is the
        # proxy's in front of both apps, here the first app's.
        worker_env = {**env, "EVENTS_BASE_URL": apps[0]}
        for index in range(2):
            worker = _start(["worker"], worker_env, tmp_path / f"worker{index}.log")
            stack.callback(_stop, worker)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the workers are other processes: poll
            if not await _pending(database):
                break
            await asyncio.sleep(0.3)
        assert await _pending(database) == 0, (tmp_path / "worker0.log").read_text()[-2000:]

    ids = [m["Message-ID"] for m in smtp.messages() if m["To"] and "scale.example" in m["To"]]
    assert len(ids) == CLIENTS, "one email per registration reached the SMTP server"
    assert len(set(ids)) == CLIENTS, "and none twice"
