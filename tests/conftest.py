"""Shared fixtures: one database per backend, built by the migrations, and an app to drive.

Every test that asks for ``database`` (or anything built on it: ``app``, ``client``,
``make``) runs twice, on SQLite and on PostgreSQL. PostgreSQL tests skip when no server
answers, except under ``CI=true``, where they fail.

Isolation, two ways (tests/isolation.py):
- most tests run inside one transaction on one connection that is rolled back at their end;
  the app's units of work commit to SAVEPOINTs inside it. After each such test the suite
  checks the database is empty and fails the test if it is not (something committed past
  the rollback: mark it ``committing``);
- tests that need real commits are marked ``committing`` (COMMITTING below, the marker, or
  asking for ``database_url`` without ``database``). On SQLite they get a fresh copy of a
  migrated template file; on PostgreSQL every row they wrote is deleted after them.

PostgreSQL database: ``EVENTS_TEST_PG_URL`` names one (its name must end in ``_test``); the
suite migrates it to head, uses it and leaves it empty, and drops it only if it had to
create it. Without the variable the suite creates ``events_<unique>_test`` and drops it at
the end. Under pytest-xdist each worker gets a database of its own, named after the worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import profiles
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

import events.models  # noqa: F401  (complete metadata)
from events import schema
from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, make_engine
from events.organiser import auth
from tests.factories import TEST_SECRET, Factory
from tests.isolation import delete_all_rows, joined_database, tables_with_rows

PG_ADMIN_URL = os.environ.get(
    "EVENTS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_TEST_URL = os.environ.get("EVENTS_TEST_PG_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

# A Monday in early March 2026, 10:00 UTC: British clocks go forward on 29 March.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)

# In-process tests hash passwords with argon2's cheapest profile: production cost (a tenth
# of a second a hash) paid for every organiser the suite signs in is minutes of CI time.
# Servers the tests start as real processes (CLI, browser) hash at production cost, and
# tests/test_cli.py checks that they do.
auth.use_password_parameters(profiles.CHEAPEST)

# Tests that need real commits, by node id prefix (a file, or file::test). Found by running
# the suite with every test rolled back: each of these failed that way. Why, per entry:
COMMITTING: tuple[str, ...] = (
    # Simultaneous sessions or clients under asyncio.gather: each must be a connection of its
    # own, and the guard under test is the database's (locks, conditional updates).
    "tests/registration/test_capacity_concurrency.py",
    "tests/catalog/test_event_changes.py::test_simultaneous_reschedules_each_raise_the_sequence",
    "tests/catalog/test_event_changes.py::test_raising_capacity_during_a_rush_never_overfills",
    "tests/calendar/test_kept_feeds.py::test_concurrent_first_requests_share_one_build",
    "tests/organiser/test_accounts.py::test_concurrent_failures_are_all_counted",
    "tests/organiser/test_attendance.py::test_organisers_confirming_at_once_never_exceed_capacity",
    "tests/organiser/test_attendance.py::test_confirm_race_is_visible_when_the_guard_is_disabled",
    "tests/organiser/test_attendance.py::test_the_same_person_added_twice_at_once_gets_one",
    # Several mail workers at once, a worker killed mid-batch, the worker of a real server.
    "tests/mail/test_crash_safety.py",
    "tests/mail/test_reminders.py::test_concurrent_schedulers_queue_each_reminder_once",
    "tests/mail/test_running.py",
    "tests/mail/test_worker.py::test_each_message_is_sent_once_by_concurrent_workers",
    "tests/mail/test_worker.py::test_duplicates_are_visible_when_workers_do_not_claim",
    # Apps and workers in other processes sharing the database.
    "tests/scale/",
)


def _refuse_non_test_database(url: str) -> None:
    name = make_url(url).database or ""
    if not Path(name).stem.endswith("_test"):
        raise RuntimeError(f"refusing to run tests against {name!r}: its name must end in _test")


def _pg_reachable() -> str | None:
    """None when the server answers, else why not."""
    import asyncpg

    async def probe() -> None:
        url = make_url(PG_ADMIN_URL)
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            database=url.database,
            timeout=3,
        )
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _pg_test_url() -> str:
    """This run's database: EVENTS_TEST_PG_URL's, or a new unique name; per xdist worker."""
    if PG_TEST_URL:
        _refuse_non_test_database(PG_TEST_URL)
        url = make_url(PG_TEST_URL)
    else:
        url = make_url(PG_ADMIN_URL).set(database=f"events_{secrets.token_hex(4)}_test")
    if XDIST_WORKER:
        stem = (url.database or "").removesuffix("_test")
        url = url.set(database=f"{stem}_{XDIST_WORKER}_test")
    return url.render_as_string(hide_password=False)


async def _admin(sql: str, *args: object) -> object:
    import asyncpg

    admin = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def _wipe(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await delete_all_rows(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template_test.sqlite3"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_shared(sqlite_template: Path) -> Path:
    """The one SQLite file every rolled-back test runs in (it stays empty)."""
    path = sqlite_template.with_name("shared_test.sqlite3")
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({problem})"
        if IN_CI:
            pytest.fail(message + "; under CI=true PostgreSQL tests are mandatory")
        pytest.skip(message)
    url = _pg_test_url()
    _refuse_non_test_database(url)
    name = make_url(url).database
    exists = asyncio.run(_admin("SELECT 1 FROM pg_database WHERE datname = $1", name))
    created = not exists
    if created:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        schema.upgrade(url)
        if not created:
            asyncio.run(_wipe(url))  # a database we were given may hold an earlier run's rows
        yield url
    finally:
        if created:
            # Only ever a database this run created; FORCE ends connections left behind by
            # subprocesses (CLI, scale tests).
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            asyncio.run(_wipe(url))


def _committing(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("committing") is not None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        if _committing(request):
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path / "events_test.sqlite3"
            shutil.copyfile(template, path)
        else:
            path = request.getfixturevalue("sqlite_shared")
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    _refuse_non_test_database(url)
    return url


@pytest.fixture
async def database(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    if _committing(request):
        db = Database.from_url(database_url)
        try:
            yield db
        finally:
            if db.engine.dialect.name == "postgresql":
                await delete_all_rows(db.engine)
            await db.dispose()
        return
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            outer = await connection.begin()
            try:
                yield joined_database(connection, engine)
            finally:
                await outer.rollback()
        leftovers = await tables_with_rows(engine)
        if leftovers:
            await delete_all_rows(engine)
            pytest.fail(
                f"rows committed past the test's transaction in {', '.join(leftovers)}: "
                "a test that needs real commits belongs in COMMITTING (tests/conftest.py)"
            )
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,  # what TEST_SIGNER signs with
        base_url="http://testserver",
        page_cache_seconds=0,
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> Starlette:
    return create_app(settings, clock=clock, database=database)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def make(database: Database, clock: FrozenClock) -> Factory:
    return Factory(database, clock)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # pytest-cov pauses its controller for no_cover tests and breaks when there is none
    # (--no-cov), so the marker is added only while coverage is really measured.
    coverage = getattr(config.pluginmanager.get_plugin("_cov"), "cov_controller", None)
    for item in items:
        names = getattr(item, "fixturenames", ())
        own_engine = "database_url" in names and "database" not in names
        if own_engine or item.nodeid.startswith(COMMITTING):
            item.add_marker(pytest.mark.committing)
        if coverage is not None and ("postgres" in item.keywords or "browser" in item.keywords):
            # Coverage is measured on the SQLite half only: the PostgreSQL twin of a test runs
            # the same code, and the browser tests drive an app in another process, so tracing
            # them adds time (coverage's tracer costs in-process tests ~60 % CPU) and no lines.
            # Code only PostgreSQL runs therefore counts as missed: the figure under-reports.
            item.add_marker(pytest.mark.no_cover)
    # Keep PostgreSQL runs together so the session-scoped server set-up happens once.
    items.sort(key=lambda item: "postgres" in item.keywords)


@pytest.fixture(autouse=True)
def _no_stray_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests build Settings explicitly; an EVENTS_* variable from the shell must not leak in."""
    for name in list(os.environ):
        if name.startswith("EVENTS_") and not name.startswith("EVENTS_TEST_"):
            monkeypatch.delenv(name)
    yield


async def execute(database: Database, sql: str) -> list[tuple[object, ...]]:
    async with database.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(text(sql))).all()]
