"""Per-test isolation by rollback: one connection, one outer transaction, savepoints inside.

A rolled-back test gets a ``Database`` whose sessions join the transaction the test holds
open (``Database(engine, bind=connection)``) and whose ``engine`` is a :class:`JoinedEngine`:
code that takes a connection straight from the engine (the mail worker's ``_record``, a
test's ``execute``) gets the same connection inside a SAVEPOINT instead of a second
connection that would not see the test's rows. The test's end rolls the outer transaction
back, so nothing it wrote survives, on SQLite and PostgreSQL alike.

Tests that need real commits (several connections at once, other processes, their own
engines) are marked ``committing`` by tests/conftest.py and keep the old behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import events.models  # noqa: F401  (complete metadata)
from events.db import Base, Database

# Written by the migrations and never by a test; not part of "the database is clean".
REFERENCE_TABLES = frozenset({"regions", "access_provisions"})


class JoinedEngine:
    """Stands in for ``AsyncEngine`` where the app or a test uses the engine directly.

    ``begin()`` yields the test's connection inside a SAVEPOINT that is released when the
    block ends (rolled back when it raises), as a real ``engine.begin()`` commits or rolls
    back; ``connect()`` yields it inside a SAVEPOINT that is always rolled back, as a real
    connection that was never committed is. Anything else is the real engine's."""

    def __init__(self, connection: AsyncConnection, engine: AsyncEngine) -> None:
        self._connection = connection
        self._engine = engine

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    def execution_options(self, **_options: Any) -> JoinedEngine:
        # sqlite_begin_immediate only matters for a BEGIN; inside the test's transaction
        # there is none to issue.
        return self

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._connection.begin_nested():
            yield self._connection

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        savepoint = await self._connection.begin_nested()
        try:
            yield self._connection
        finally:
            if savepoint.is_active:
                await savepoint.rollback()

    async def dispose(self) -> None:
        """The fixture that made the engine disposes of it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def joined_database(connection: AsyncConnection, engine: AsyncEngine) -> Database:
    database = Database(engine, bind=connection)
    database.engine = JoinedEngine(connection, engine)  # type: ignore[assignment]
    return database


def _data_tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]


async def tables_with_rows(engine: AsyncEngine) -> list[str]:
    """The non-reference tables holding at least one row, in one round trip."""
    quote = engine.dialect.identifier_preparer.quote
    sql = " UNION ALL ".join(
        f"SELECT '{t.name}' AS name WHERE EXISTS (SELECT 1 FROM {quote(t.name)})"
        for t in _data_tables()
    )
    async with engine.connect() as conn:
        return [row[0] for row in (await conn.execute(text(sql))).all()]


async def delete_all_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(_data_tables()):
            await conn.execute(table.delete())
