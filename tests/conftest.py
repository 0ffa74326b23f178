"""Shared fixtures: one database per backend, built by the migrations, and an app to drive.

Every test that asks for ``database`` (or anything built on it: ``app``, ``client``,
``make``) runs twice, on SQLite and on PostgreSQL. PostgreSQL tests skip when no server
answers, except under ``CI=true``, where they fail.

Isolation: writes commit for real (so concurrency tests see real transactions). SQLite gets
a fresh copy of a migrated template file per test; PostgreSQL deletes every row a test
wrote (reference tables excepted) after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

import events.models  # noqa: F401  (complete metadata)
from events import schema
from events.app import create_app
from events.clock import FrozenClock
from events.config import Settings
from events.db import Base, Database
from tests.factories import Factory

PG_ADMIN_URL = os.environ.get(
    "EVENTS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_TEST_URL = os.environ.get(
    "EVENTS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/events_test"
)
REFERENCE_TABLES = {"regions", "access_provisions"}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# A Monday in early March 2026, 10:00 UTC: British clocks go forward on 29 March.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template_test.sqlite3"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({problem})"
        if IN_CI:
            pytest.fail(message + "; under CI=true PostgreSQL tests are mandatory")
        pytest.skip(message)
    _refuse_non_test_database(PG_TEST_URL)
    import asyncpg

    async def recreate() -> None:
        admin = make_url(PG_ADMIN_URL)
        name = make_url(PG_TEST_URL).database
        conn = await asyncpg.connect(
            host=admin.host, port=admin.port or 5432, user=admin.username, database=admin.database
        )
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())
    schema.upgrade(PG_TEST_URL)
    return PG_TEST_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "events_test.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    _refuse_non_test_database(url)
    return url


async def _delete_all_rows(database: Database) -> None:
    async with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                await conn.execute(table.delete())


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        if db.engine.dialect.name == "postgresql":
            await _delete_all_rows(db)
        await db.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-test-secret-key-test-secret",  # type: ignore[arg-type]
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
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
