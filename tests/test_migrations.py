"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from events import schema
from events.db import Base, make_engine


def _diff(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:

                def compare(sync_conn: Connection) -> list[object]:
                    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                    return list(compare_metadata(context, Base.metadata))

                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_models_and_migrations_agree(database_url: str) -> None:
    assert _diff(database_url) == []


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    schema.downgrade(database_url, "base")
    schema.upgrade(database_url)
    assert _diff(database_url) == []
    revision = asyncio.run(schema.current_revision(database_url))
    assert revision == schema.head_revision(database_url)


def test_reference_data_is_written_by_the_migration(database_url: str) -> None:
    async def count() -> tuple[int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                from sqlalchemy import text

                regions = (await conn.execute(text("SELECT count(*) FROM regions"))).scalar_one()
                provisions = (
                    await conn.execute(text("SELECT count(*) FROM access_provisions"))
                ).scalar_one()
                return int(regions), int(provisions)
        finally:
            await engine.dispose()

    regions, provisions = asyncio.run(count())
    assert regions == 10  # nine English regions and Wales
    assert provisions == 5
