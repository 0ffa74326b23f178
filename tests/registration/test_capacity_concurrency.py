"""Capacity under concurrency, through the HTTP app, with real commits, on both databases.

The control test at the end swaps the atomic claim for the read-await-write a naive
implementation would write, and shows the same harness catches the race.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from events.catalog.models import Event
from events.config import Settings
from events.db import Database, unit_of_work
from events.registration import capacity, service
from events.registration.errors import EventFull
from events.registration.models import RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, registration_input
from tests.registration.helpers import by_status, csrf_token, outbox, places_left

CAPACITY = 50
PEOPLE = 200


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A load test: 200 registrations from one address must not meet the rate limit.
    return settings.model_copy(update={"rate_limit_enabled": False})


async def _register_all(client: httpx.AsyncClient, slug: str) -> list[httpx.Response]:
    async def one(n: int) -> httpx.Response:
        return await client.post(
            f"/api/v1/events/{slug}/registrations",
            json={"name": f"Person {n}", "email": f"person{n}@example.org"},
        )

    return list(await asyncio.gather(*(one(n) for n in range(PEOPLE))))


async def test_simultaneous_registrations_fill_capacity_then_waiting_list_in_order(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=CAPACITY, waiting_list_enabled=True)
    responses = await _register_all(client, event.slug)

    assert Counter(r.status_code for r in responses) == {201: PEOPLE}
    answers = [r.json() for r in responses]
    assert sum(a["status"] == "confirmed" for a in answers) == CAPACITY
    positions = sorted(a["position"] for a in answers if a["status"] == "waitlisted")
    assert positions == list(range(1, PEOPLE - CAPACITY + 1))
    assert all("token" not in str(a) for a in answers)

    confirmed = await by_status(database, event.id, RegistrationStatus.confirmed)
    waiting = await by_status(database, event.id, RegistrationStatus.waitlisted)
    assert len(confirmed) == CAPACITY
    assert sorted(r.waiting_list_number or 0 for r in waiting) == list(
        range(1, PEOPLE - CAPACITY + 1)
    )
    assert await places_left(database, event.id) == 0
    kinds = Counter(m.kind for m in await outbox(database))
    assert kinds == {"confirmed": CAPACITY, "waitlisted": PEOPLE - CAPACITY}


async def test_simultaneous_cancellations_promote_exactly_that_many_in_order(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=CAPACITY, waiting_list_enabled=True)
    await _register_all(client, event.slug)
    confirmed = await by_status(database, event.id, RegistrationStatus.confirmed)
    messages = await outbox(database, "confirmed")
    tokens = [m.payload["manage_token"] for m in messages]
    assert len(tokens) == len(confirmed) == CAPACITY
    csrf = await csrf_token(client, f"/r/{tokens[0]}/cancel")

    responses = await asyncio.gather(
        *(client.post(f"/r/{token}/cancel", data={"csrf_token": csrf}) for token in tokens)
    )
    assert Counter(r.status_code for r in responses) == {303: CAPACITY}
    for response in responses:
        page = await client.get(response.headers["location"])
        assert "Your place is cancelled" in page.text

    now_confirmed = await by_status(database, event.id, RegistrationStatus.confirmed)
    still_waiting = await by_status(database, event.id, RegistrationStatus.waitlisted)
    assert sorted(r.waiting_list_number or 0 for r in now_confirmed) == list(range(1, CAPACITY + 1))
    assert sorted(r.waiting_list_number or 0 for r in still_waiting) == list(
        range(CAPACITY + 1, PEOPLE - CAPACITY + 1)
    )
    assert await places_left(database, event.id) == 0
    # Promotions happened one after another, first in line first.
    promoted = await outbox(database, "promoted")
    assert len(promoted) == CAPACITY
    numbers = {r.id: r.waiting_list_number or 0 for r in now_confirmed}
    in_order = [numbers[m.payload["registration_id"]] for m in promoted]
    assert in_order == sorted(in_order)
    assert len(await outbox(database, "cancelled")) == CAPACITY


async def test_simultaneous_registrations_without_waiting_list_answer_event_full(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=CAPACITY)
    responses = await _register_all(client, event.slug)
    assert Counter(r.status_code for r in responses) == {201: CAPACITY, 409: PEOPLE - CAPACITY}
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert {body["code"] for body in refusals} == {"event_full"}
    assert len(await by_status(database, event.id, RegistrationStatus.confirmed)) == CAPACITY
    assert await by_status(database, event.id, RegistrationStatus.waitlisted) == []
    assert await places_left(database, event.id) == 0
    assert len(await outbox(database)) == CAPACITY


async def test_same_email_registering_simultaneously_gets_one_place(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=CAPACITY)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/events/{event.slug}/registrations",
                json={"name": "Jo", "email": " JO@example.org " if n % 2 else "jo@example.org"},
            )
            for n in range(20)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 20}
    assert len(await by_status(database, event.id, RegistrationStatus.confirmed)) == 1
    assert await places_left(database, event.id) == CAPACITY - 1
    # One confirmation: the others came at the same moment and re-send nothing
    # (service.RESEND_QUIET), as a double-click sends one email.
    assert len(await outbox(database)) == 1


# The control ---------------------------------------------------------------------------


async def _racy_claim(session: object, event_id: int) -> capacity.Claim:
    """What the guard prevents: read places_left, await, then write what was read minus one."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    left = (
        await session.execute(select(Event.places_left).where(Event.id == event_id))
    ).scalar_one()
    await asyncio.sleep(0.01)
    if left is not None and left <= 0:
        return capacity.Claim.FULL
    await session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(places_left=None if left is None else left - 1)
        .execution_options(synchronize_session=False)
    )
    return capacity.Claim.CLAIMED


async def _unlocked_event(
    session: object, *, event_id: int | None = None, **_: Any
) -> Event | None:
    """What the guard prevents, part one: read the event without taking its lock."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def _racy_claim_of(session: object, event: Event) -> capacity.Claim:
    return await _racy_claim(session, event.id)


async def _register_concurrently(
    make: Factory, event_id: int, *, write_lock: bool
) -> tuple[int, int]:
    """Registrations in separate sessions at once; returns (confirmed, failed)."""
    sessionmaker = make.database.writer if write_lock else make.database.reader

    async def one(n: int) -> str:
        try:
            async with unit_of_work(sessionmaker) as session:
                await service.register(
                    session,
                    make.clock,
                    event_id=event_id,
                    data=registration_input(f"control{n}@example.org"),
                    signer=TEST_SIGNER,
                )
            return "confirmed"
        except EventFull:
            return "full"
        except Exception:
            return "failed"

    results = Counter(await asyncio.gather(*(one(n) for n in range(60))))
    return results["confirmed"], results["failed"]


async def test_guarded_claim_never_overbooks_when_sessions_race(make: Factory) -> None:
    event = await make.event(capacity=10)
    confirmed, failed = await _register_concurrently(make, event.id, write_lock=True)
    assert (confirmed, failed) == (10, 0)


async def test_race_is_visible_when_the_guard_is_disabled(
    make: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: without the event lock and the atomic claim (and, on SQLite, without BEGIN
    IMMEDIATE) the same harness sees the race: PostgreSQL overbooks (lost updates under READ
    COMMITTED); SQLite's snapshot check turns the collisions into failed registrations
    ("database is locked")."""
    monkeypatch.setattr(capacity, "claim_place", _racy_claim)
    monkeypatch.setattr(capacity, "locked_event", _unlocked_event)
    monkeypatch.setattr(capacity, "claim_locked", _racy_claim_of)
    event = await make.event(capacity=10)
    confirmed, failed = await _register_concurrently(make, event.id, write_lock=False)
    if database.engine.dialect.name == "postgresql":
        assert confirmed > 10, "the race should overbook without the guard"
    else:
        assert failed > 0, "the race should make colliding registrations fail"
