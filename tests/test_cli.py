"""The events command, run as an operator runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.config import load_settings, served_base_url
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


def _serve(tmp_path: Path, port: int, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """``events serve --demo --port PORT ARGS`` in the background, answering once it returns."""
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--demo", "--port", str(port), *args],
            cwd=tmp_path,
            env=_env(tmp_path, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"server did not start:\n{log.read_text()}")
        time.sleep(0.2)


def _open_event(port: int) -> dict[str, Any]:
    listing = httpx.get(f"http://127.0.0.1:{port}/api/v1/events", timeout=10).json()
    items: list[dict[str, Any]] = listing["items"]
    return next(e for e in items if e["registration_open"] and not e["members_only"])


def test_serve_without_base_url_links_to_the_address_it_serves(tmp_path: Path) -> None:
    port = _free_port()
    served = f"http://127.0.0.1:{port}/"
    # Two app processes: uvicorn spawns them, so the base URL must reach them (and their
    # in-process mail workers) through the environment.
    process = _serve(
        tmp_path, port, "--host", "127.0.0.1", "--workers", "2", EVENTS_WORKER_POLL_SECONDS="0.2"
    )
    try:
        event = _open_event(port)
        assert event["url"] == f"{served}events/{event['slug']}"
        assert event["ics_url"].startswith(served)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/events/{event['slug']}/registrations",
            json={"name": "Jo Bloggs", "email": "jo@example.org"},
            timeout=10,
        )
        assert answer.status_code in {200, 201}, answer.text
        outbox = tmp_path / "outbox"
        deadline = time.monotonic() + 30
        while not list(outbox.glob("*.eml")):
            assert time.monotonic() < deadline, "no confirmation was sent"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)

    [sent] = outbox.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(sent.read_bytes())
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    links = re.findall(r"https?://\S+", body.get_content())
    assert f"{served}events/{event['slug']}" in links
    assert any(link.startswith(f"{served}r/") for link in links), links  # manage
    assert all(link.startswith(served) for link in links), links
    log = (tmp_path / "serve.log").read_text()
    assert f"events: links point at {served} (from the address served" in log


def test_serve_logs_and_uses_the_configured_base_url(tmp_path: Path) -> None:
    port = _free_port()
    process = _serve(tmp_path, port, EVENTS_BASE_URL="https://events.example.org/")
    try:
        event = _open_event(port)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert event["url"] == f"https://events.example.org/events/{event['slug']}"
    lines = (tmp_path / "serve.log").read_text().splitlines()
    assert "events: links point at https://events.example.org/ (from EVENTS_BASE_URL)" in lines


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
        ("[::1]", "http://[::1]:8000"),
        ("2001:db8::7", "http://[2001:db8::7]:8000"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:8000"),
        ("events.lan", "http://events.lan:8000"),
    ],
)
def test_the_served_base_url_is_an_address_a_browser_can_visit(host: str, expected: str) -> None:
    assert served_base_url(host, 8000) == expected
    assert load_settings(base_url=expected).base_url == expected


def test_production_serve_without_base_url_exits_2_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "events", "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=_env(
            tmp_path,
            EVENTS_ENV="production",
            EVENTS_SECRET_KEY="x" * 40,
            EVENTS_MAIL_FROM="Union events <events@union.example.org>",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("events: configuration error: EVENTS_BASE_URL must be set")
    assert result.stdout == ""


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
