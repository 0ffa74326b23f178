"""Property-based tests (Hypothesis) of the registration rules.

Random sequences of registrations and cancellations, against random capacities and
waiting-list settings, run through the real services on a real (SQLite) database built by
the migrations, and after every sequence the database must agree with a ten-line model of
the rules in SPEC.md: capacity never exceeded, one place per email, the waiting list first
come first served, a freed place going to the first in line, places_left = capacity -
confirmed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage
from events.registration import service
from events.registration.errors import EventFull, RegistrationNotFound
from events.registration.models import Registration, RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, registration_input

EMAILS = [f"person{i}@example.org" for i in range(4)]
Step = tuple[str, int]  # ("register" | "cancel", index into EMAILS)


@dataclass
class Model:
    """The rules, as plainly as they can be said."""

    capacity: int | None
    waiting_list: bool
    confirmed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def register(self, email: str) -> None:
        if email in self.confirmed or email in self.waiting:
            return  # the same person gets their place back, never a second one
        if self.capacity is None or len(self.confirmed) < self.capacity:
            self.confirmed.append(email)
        elif self.waiting_list:
            self.waiting.append(email)

    def cancel(self, email: str) -> None:
        if email in self.waiting:
            self.waiting.remove(email)
        elif email in self.confirmed:
            self.confirmed.remove(email)
            if self.waiting:
                self.confirmed.append(self.waiting.pop(0))


async def _latest_manage_token(database: Database, email: str) -> str | None:
    async with database.reader() as session:
        rows = await session.execute(
            select(OutboxMessage.payload)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        )
        for payload in rows.scalars():
            token = payload.get("manage_token")
            if isinstance(token, str):
                return token
    return None


async def _run(db_file: Path, capacity: int | None, waiting_list: bool, steps: list[Step]) -> None:
    database = Database.from_url(f"sqlite:///{db_file}")
    clock = FrozenClock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
    make = Factory(database, clock)
    model = Model(capacity, waiting_list)
    try:
        event = await make.event(capacity=capacity, waiting_list_enabled=waiting_list)
        for action, index in steps:
            email = EMAILS[index]
            if action == "register":
                model.register(email)
                try:
                    async with unit_of_work(database.writer) as session:
                        await service.register(
                            session,
                            clock,
                            event_id=event.id,
                            data=registration_input(email),
                            signer=TEST_SIGNER,
                        )
                except EventFull:
                    assert capacity is not None and not waiting_list
            else:
                model.cancel(email)
                token = await _latest_manage_token(database, email)
                if token is None:
                    continue  # never registered: nothing to cancel with
                try:
                    async with unit_of_work(database.writer) as session:
                        await service.cancel(session, clock, token=token, signer=TEST_SIGNER)
                except RegistrationNotFound:
                    raise AssertionError("a link from a sent email stopped working") from None

        async with database.reader() as session:
            rows = (
                await session.execute(
                    select(Registration)
                    .where(Registration.event_id == event.id)
                    .order_by(Registration.confirmed_at, Registration.id)
                )
            ).scalars()
            registrations = list(rows)
            places_left = (
                await session.execute(select(Event.places_left).where(Event.id == event.id))
            ).scalar_one()
        confirmed = {r.email for r in registrations if r.status == RegistrationStatus.confirmed}
        waiting = [
            r.email
            for r in sorted(registrations, key=lambda r: r.waiting_list_number or 0)
            if r.status == RegistrationStatus.waitlisted
        ]
        assert confirmed == set(model.confirmed)
        assert waiting == model.waiting
        active = [r.email for r in registrations if r.status != RegistrationStatus.cancelled]
        assert len(active) == len(set(active)), "one active registration per email"
        if capacity is None:
            assert places_left is None
        else:
            assert len(confirmed) <= capacity
            assert places_left == capacity - len(confirmed)
    finally:
        await database.dispose()


steps = st.lists(
    st.tuples(st.sampled_from(["register", "register", "cancel"]), st.integers(0, len(EMAILS) - 1)),
    min_size=1,
    max_size=16,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    capacity=st.one_of(st.none(), st.integers(0, 3)),
    waiting_list=st.booleans(),
    steps=steps,
)
def test_registrations_follow_the_rules_whatever_the_sequence(
    sqlite_template: Path, capacity: int | None, waiting_list: bool, steps: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db_file = Path(folder) / "property_test.sqlite3"
        shutil.copyfile(sqlite_template, db_file)
        asyncio.run(_run(db_file, capacity, waiting_list, steps))
