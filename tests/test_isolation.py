"""The suite's own isolation: what one test writes, the next never sees, on both backends.

The ``*_first`` / ``*_second`` pairs each assert an empty table and then write to it, so
whichever runs second fails if the other's row survived.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from events.catalog.models import Topic
from events.db import Database, make_engine, unit_of_work
from tests.conftest import _pg_test_url
from tests.factories import Factory
from tests.isolation import JoinedEngine, tables_with_rows


async def _topics(database: Database) -> int:
    async with database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Topic)) or 0)


async def _write_topic_asserting_none_before(make: Factory, database: Database) -> None:
    assert await _topics(database) == 0
    await make.topic("Isolation probe")
    assert await _topics(database) == 1


async def test_a_rolled_back_tests_rows_are_gone_in_the_next_first(
    make: Factory, database: Database
) -> None:
    await _write_topic_asserting_none_before(make, database)


async def test_a_rolled_back_tests_rows_are_gone_in_the_next_second(
    make: Factory, database: Database
) -> None:
    await _write_topic_asserting_none_before(make, database)


@pytest.mark.committing
async def test_a_committing_tests_rows_are_deleted_after_it_first(
    make: Factory, database: Database
) -> None:
    assert not isinstance(database.engine, JoinedEngine)  # real commits
    await _write_topic_asserting_none_before(make, database)


async def test_a_committing_tests_rows_are_deleted_after_it_second(
    make: Factory, database: Database
) -> None:
    await _write_topic_asserting_none_before(make, database)


async def test_a_rolled_back_test_commits_nothing_another_connection_could_see(
    make: Factory, database: Database, database_url: str
) -> None:
    await make.topic("Only in this test's transaction")
    assert await _topics(database) == 1
    other = make_engine(database_url, pool_size=1)
    try:
        assert "topics" not in await tables_with_rows(other)
    finally:
        await other.dispose()


async def test_a_failed_unit_of_work_rolls_back_only_itself(
    make: Factory, database: Database
) -> None:
    await make.topic("Kept")
    with pytest.raises(RuntimeError):
        async with unit_of_work(database.writer) as session:
            session.add(Topic(name="Dropped", slug="dropped"))
            await session.flush()
            raise RuntimeError("the unit of work fails")
    async with database.reader() as session:
        assert list(await session.scalars(select(Topic.name))) == ["Kept"]


async def test_the_engine_used_directly_sees_the_tests_rows(
    make: Factory, database: Database
) -> None:
    await make.topic("Seen")
    async with database.engine.begin() as conn:
        assert (await conn.scalar(select(func.count()).select_from(Topic))) == 1
    async with database.engine.connect() as conn:
        assert (await conn.scalar(select(func.count()).select_from(Topic))) == 1


def test_the_postgres_database_is_unique_per_run_and_per_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tests.conftest as conftest

    monkeypatch.setattr(conftest, "PG_TEST_URL", "")
    monkeypatch.setattr(conftest, "XDIST_WORKER", "")
    first, second = _pg_test_url(), _pg_test_url()
    assert first != second
    assert first.endswith("_test") and second.endswith("_test")
    monkeypatch.setattr(conftest, "PG_TEST_URL", "postgresql://postgres@localhost/mine_test")
    assert _pg_test_url() == "postgresql://postgres@localhost/mine_test"
    monkeypatch.setattr(conftest, "XDIST_WORKER", "gw1")
    assert _pg_test_url() == "postgresql://postgres@localhost/mine_gw1_test"
    monkeypatch.setattr(conftest, "PG_TEST_URL", "postgresql://postgres@localhost/production")
    with pytest.raises(RuntimeError, match="must end in _test"):
        _pg_test_url()
