"""The events command, run as an operator runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from events.organiser import auth


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env["EVENTS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli_test.sqlite3'}"
    env.update(extra)
    return env


def test_db_upgrade_then_check_reports_the_newest_revision(tmp_path: Path) -> None:
    env = _env(tmp_path)
    check = subprocess.run(
        [sys.executable, "-m", "events", "db", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 1 and "events db upgrade" in check.stderr
    upgrade = subprocess.run(
        [sys.executable, "-m", "events", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    check = subprocess.run(
        [sys.executable, "-m", "events", "db", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0 and "(newest)" in check.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_answers_on_loopback_with_demo_data(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert home.status_code == 200
        listing = httpx.get(f"http://127.0.0.1:{port}/events", timeout=10)
        assert listing.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def _events(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "events", *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_organiser_reads_the_password_from_stdin_and_the_account_signs_in(
    tmp_path: Path,
) -> None:
    import sqlite3

    from argon2 import PasswordHasher

    not_ready = _events(tmp_path, "create-organiser", "sam@union.example", "--role", "admin")
    assert not_ready.returncode == 1 and "events db upgrade" in not_ready.stderr
    assert _events(tmp_path, "db", "upgrade").returncode == 0

    created = _events(
        tmp_path,
        "create-organiser",
        " Sam@Union.example ",
        "--role",
        "admin",
        "--name",
        "Sam Okafor",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "events: created admin sam@union.example"
    with sqlite3.connect(tmp_path / "cli_test.sqlite3") as db:
        rows = db.execute("SELECT email, role, name, password_hash FROM organisers").fetchall()
    assert [row[:3] for row in rows] == [("sam@union.example", "admin", "Sam Okafor")]
    stored = rows[0][3]
    assert stored.startswith("$argon2id$") and "passphrase" not in stored
    # A real process hashes at production cost (the suite's cheap profile stays in-process).
    production = PasswordHasher.from_parameters(auth.PRODUCTION_PARAMETERS)
    assert not production.check_needs_rehash(stored)
    assert PasswordHasher().verify(stored, "a long enough passphrase")

    again = _events(
        tmp_path, "create-organiser", "sam@union.example", "--role", "organiser", stdin="x" * 20
    )
    assert again.returncode == 1 and "already exists" in again.stderr

    short = _events(
        tmp_path, "create-organiser", "kim@union.example", "--role", "organiser", stdin="short\n"
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr

    bad_email = _events(
        tmp_path, "create-organiser", "not-an-email", "--role", "organiser", stdin="x" * 20
    )
    assert bad_email.returncode == 1 and "email address" in bad_email.stderr

    bad_role = _events(tmp_path, "create-organiser", "kim@union.example", "--role", "boss")
    assert bad_role.returncode == 2 and "boss" in bad_role.stderr
    with sqlite3.connect(tmp_path / "cli_test.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM organisers").fetchone() == (1,)


def test_privacy_commands_purge_and_erase_for_an_operator(tmp_path: Path) -> None:
    import asyncio
    import datetime as dt
    import sqlite3

    from events.clock import FrozenClock
    from events.db import Database
    from tests.factories import Factory, register

    assert _events(tmp_path, "db", "upgrade").returncode == 0

    async def seed() -> None:
        database = Database.from_url(f"sqlite:///{tmp_path / 'cli_test.sqlite3'}")
        make = Factory(database, FrozenClock(dt.datetime.now(dt.UTC)))
        try:
            event = await make.event(capacity=2)
            await register(make, event, "jo@example.org")
        finally:
            await database.dispose()

    asyncio.run(seed())
    purged = _events(tmp_path, "privacy", "purge")
    assert purged.returncode == 0, purged.stderr
    assert "access requirements purged from 0 registrations" in purged.stdout

    bad = _events(tmp_path, "privacy", "erase", "not-an-address", "--yes")
    assert bad.returncode == 2 and "right format" in bad.stderr
    erased = _events(tmp_path, "privacy", "erase", " Jo@Example.org ", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "1 registrations erased, 1 places freed" in erased.stdout
    with sqlite3.connect(tmp_path / "cli_test.sqlite3") as db:
        rows = db.execute("SELECT email, erased_at FROM registrations").fetchall()
    assert len(rows) == 1 and "jo@example.org" not in rows[0][0] and rows[0][1] is not None
