"""Settings: safe defaults, plain URLs, one clear line for a wrong value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from events.config import ConfigError, load_settings
from events.db import async_url


def test_defaults_are_safe_for_a_newcomer() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///events.sqlite3"
    assert settings.timezone == "Europe/London"
    assert settings.env == "development"


def test_plain_database_urls_get_async_drivers() -> None:
    assert async_url("sqlite:///x.sqlite3").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("EVENTS_TIMEZONE", "Mars/Olympus", "EVENTS_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("EVENTS_DATABASE_URL", "mysql://x@y/z", "EVENTS_DATABASE_URL: unsupported database"),
        ("EVENTS_BASE_URL", "example.org", "EVENTS_BASE_URL: 'example.org' is not an absolute"),
        ("EVENTS_ENV", "staging", "EVENTS_ENV:"),
    ],
)
def test_a_wrong_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_ENV", "production")
    with pytest.raises(ConfigError, match="EVENTS_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("EVENTS_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="EVENTS_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("EVENTS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVENTS_MAIL_FROM", "Union events <events@example.org>")
    monkeypatch.setenv("EVENTS_BASE_URL", "https://events.example.org")
    assert load_settings().secret() == "x" * 40


def test_production_refuses_to_start_without_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_ENV", "production")
    monkeypatch.setenv("EVENTS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVENTS_MAIL_FROM", "Union events <events@example.org>")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("EVENTS_BASE_URL must be set to the public address")
    assert "\n" not in str(caught.value)
    # Set, even to the default's value, it is the operator's choice.
    monkeypatch.setenv("EVENTS_BASE_URL", "http://127.0.0.1:8000")
    assert load_settings().base_url_configured
    # Outside production the default stays, and `events serve` makes links to what it serves.
    monkeypatch.setenv("EVENTS_ENV", "development")
    monkeypatch.delenv("EVENTS_BASE_URL")
    assert not load_settings().base_url_configured


@pytest.mark.parametrize(
    "sender",
    [
        None,  # unset: the default, events@localhost
        "Events <events@localhost>",
        "events@LOCALHOST.",
        "events@mail.localhost",
        "events@union.invalid",
        "Events <events@box.local>",
        "events@mailhost",
    ],
)
def test_production_refuses_to_start_without_a_real_sender(
    monkeypatch: pytest.MonkeyPatch, sender: str | None
) -> None:
    monkeypatch.setenv("EVENTS_ENV", "production")
    monkeypatch.setenv("EVENTS_SECRET_KEY", "x" * 40)
    if sender is None:
        monkeypatch.delenv("EVENTS_MAIL_FROM", raising=False)
    else:
        monkeypatch.setenv("EVENTS_MAIL_FROM", sender)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("EVENTS_MAIL_FROM must be a real sender address")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "sender", ["Union events <events@union.example.org>", "events@[192.0.2.1]"]
)
def test_production_starts_with_a_real_sender(monkeypatch: pytest.MonkeyPatch, sender: str) -> None:
    monkeypatch.setenv("EVENTS_ENV", "production")
    monkeypatch.setenv("EVENTS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVENTS_MAIL_FROM", sender)
    monkeypatch.setenv("EVENTS_BASE_URL", "https://events.example.org")
    assert load_settings().mail_from == sender
    # Outside production, the local default stays, so a newcomer needs no setting.
    monkeypatch.setenv("EVENTS_ENV", "development")
    monkeypatch.delenv("EVENTS_MAIL_FROM")
    assert load_settings().mail_from == "Events <events@localhost>"


def test_development_secret_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = load_settings().secret()
    second = load_settings().secret()
    assert first == second and len(first) >= 32
    assert (tmp_path / ".events-secret").stat().st_mode & 0o077 == 0


def test_the_command_line_prints_one_line_and_exits_2_on_a_bad_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env["EVENTS_TIMEZONE"] = "Nowhere/Special"
    result = subprocess.run(
        [sys.executable, "-m", "events", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "events: configuration error: EVENTS_TIMEZONE: unknown time zone "
        "'Nowhere/Special' (try Europe/London)"
    ]
