"""Database plumbing: the declarative base, shared column types, engines and units of work.

Plain ``sqlite:///path`` and ``postgresql://user@host/db`` URLs are accepted and given
async drivers here (aiosqlite, asyncpg), so operators never name a driver.

SQLite notes, each fixing a real failure:
- foreign keys are off by default in SQLite; every connection turns them on;
- WAL lets readers go on while one writer writes; ``busy_timeout`` makes a second writer wait
  instead of failing at once;
- a write transaction starts with ``BEGIN IMMEDIATE``. A deferred ``BEGIN`` takes its write
  lock only at the first write, and two such transactions that both read first deadlock,
  which SQLite reports at once as "database is locked" without waiting. Read-only units of
  work keep the cheap deferred ``BEGIN``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from sqlalchemy import DateTime, Enum, Integer, MetaData, String, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored in UTC. Naive values are refused rather than guessed at;
    SQLite hands back naive values, which are UTC by construction and made aware again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def string_enum(cls: type[enum.StrEnum], name: str, *, length: int = 32) -> Enum:
    """An enum stored as its values in a plain string column with a CHECK constraint:
    portable, and adding a value is a constraint change rather than PostgreSQL's ALTER TYPE."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


Pk = Annotated[int, mapped_column(Integer, primary_key=True)]
Slug = Annotated[str, mapped_column(String(120), unique=True)]
UtcTime = Annotated[dt.datetime, mapped_column(UtcDateTime())]


def async_url(url: str) -> URL:
    """Give a plain database URL the async driver this app uses."""
    parsed = make_url(url)
    if "+" in parsed.drivername:  # a driver named explicitly is the operator's choice
        return parsed
    if parsed.drivername == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """``hide_parameters``: a database error's message (which reaches logs) never carries the
    values bound to it: emails, names and access requirements are personal data."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            parsed, echo=echo, pool_size=pool_size, max_overflow=20, hide_parameters=True
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and the two session factories built on it: ``reader`` for read-only work,
    ``writer`` for work that changes rows (``BEGIN IMMEDIATE`` on SQLite)."""

    def __init__(self, engine: AsyncEngine, *, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        if bind is not None:
            # Tests only: every session joins the transaction the test holds open on ``bind``
            # through a SAVEPOINT, so a unit of work's commit releases its savepoint and the
            # test rolls everything back at its end (SQLAlchemy's "joining a Session into an
            # external transaction" recipe). SQLite needs no driver fix for this: the engine
            # already issues BEGIN itself (see _configure_sqlite).
            joined = async_sessionmaker(
                bind,
                expire_on_commit=False,
                autoflush=False,
                join_transaction_mode="create_savepoint",
            )
            self.reader = self.writer = joined
            return
        write_engine = engine.execution_options(sqlite_begin_immediate=True)
        self.reader = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.writer = async_sessionmaker(write_engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block ends normally, roll back when it raises.

    Services flush, never commit; the caller's edge (a request, a job, a CLI command) owns
    this block, so everything a change causes is committed together or not at all."""
    async with sessionmaker() as session, session.begin():
        yield session
