"""Running the worker: ``events worker --once`` and the in-process worker of ``events serve``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from events import schema
from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from tests.factories import Factory, register


def _env(database_url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env["EVENTS_DATABASE_URL"] = database_url
    env["EVENTS_MAIL_URL"] = folder.as_uri()
    return env


async def test_worker_once_sends_what_is_due_and_exits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker_test.sqlite3'}"
    schema.upgrade(url)
    database = Database.from_url(url)
    try:
        make = Factory(database, FrozenClock(dt.datetime.now(dt.UTC)))
        event = await make.event()
        await register(make, event, "sam@example.org")
        await register(make, event, "alex@example.org")
    finally:
        await database.dispose()
    folder = tmp_path / "outbox"

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "events", "worker", "--once"],
        cwd=tmp_path,
        env=_env(url, folder),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "batch: claimed 2, sent 2, retried 0, failed 0" in done.stdout
    assert len(list(folder.glob("*.eml"))) == 2
    # A worker run on its own cannot know what `events serve` serves: it says what it uses.
    assert "events: links point at http://127.0.0.1:8000/" in done.stdout.splitlines()


async def test_serve_runs_the_worker_in_process_on_sqlite(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    embedded = settings.model_copy(
        update={"mail_url": folder.as_uri(), "worker_in_process": True, "worker_poll_seconds": 0.05}
    )
    app = create_app(embedded, clock=clock, database=Database.from_url(settings.database_url))
    event = await make.event()
    await register(make, event, "sam@example.org")

    async with app.router.lifespan_context(app):
        for _ in range(200):
            if list(folder.glob("*.eml")):
                break
            await asyncio.sleep(0.02)

    assert len(list(folder.glob("*.eml"))) == 1


def test_worker_in_process_defaults_to_on_for_sqlite_only() -> None:
    assert Settings(database_url="sqlite:///x.sqlite3").runs_worker_in_process
    assert not Settings(database_url="postgresql://u@h/db").runs_worker_in_process
    assert not Settings(env="test", database_url="sqlite:///x.sqlite3").runs_worker_in_process
    assert not Settings(
        database_url="sqlite:///x.sqlite3", worker_in_process=False
    ).runs_worker_in_process


async def test_worker_once_runs_the_reminder_scheduler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker_test.sqlite3'}"
    schema.upgrade(url)
    database = Database.from_url(url)
    now = dt.datetime.now(dt.UTC)
    try:
        make = Factory(database, FrozenClock(now - dt.timedelta(days=2)))
        event = await make.event(starts_at=now + dt.timedelta(hours=12))
        await register(make, event, "sam@example.org")
    finally:
        await database.dispose()
    folder = tmp_path / "outbox"

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "events", "worker", "--once"],
        cwd=tmp_path,
        env=_env(url, folder),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "batch: claimed 2, sent 2" in done.stdout  # the confirmation and the 1-day reminder
    subjects = sorted(
        line for p in folder.glob("*.eml") for line in p.read_text().splitlines()
        if line.startswith("Subject:")
    )  # fmt: skip
    assert len(subjects) == 2 and subjects[0].startswith("Subject: Reminder: ")
