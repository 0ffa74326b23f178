"""Factory helpers: build rows through the services, each call in its own unit of work
(committed for real in a committing test, else to a savepoint in the test's transaction)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from events import lifecycle
from events.catalog.fields import EventInput
from events.catalog.models import Campaign, Event, EventFormat, EventKind, Partner, Series, Topic
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.kit.signing import Signer
from events.organiser import groupings

_counter = itertools.count(1)


class Factory:
    def __init__(self, database: Database, clock: FrozenClock) -> None:
        self.database = database
        self.clock = clock

    async def topic(self, name: str | None = None, **overrides: Any) -> Topic:
        async with unit_of_work(self.database.writer) as session:
            return await groupings.create_topic(
                session, self.clock, name=name or f"Topic {next(_counter)}", **overrides
            )

    async def partner(self, name: str | None = None, **overrides: Any) -> Partner:
        async with unit_of_work(self.database.writer) as session:
            return await groupings.create_partner(
                session, self.clock, name=name or f"Partner {next(_counter)}", **overrides
            )

    async def series(self, title: str | None = None, **overrides: Any) -> Series:
        partners = overrides.pop("partners", ())
        async with unit_of_work(self.database.writer) as session:
            merged = [await session.merge(p, load=False) for p in partners]
            return await groupings.create_series(
                session,
                self.clock,
                title=title or f"Series {next(_counter)}",
                partners=merged,
                **overrides,
            )

    async def campaign(self, title: str | None = None, **overrides: Any) -> Campaign:
        overrides.setdefault("starts_on", (self.clock.now() + dt.timedelta(days=14)).date())
        async with unit_of_work(self.database.writer) as session:
            return await groupings.create_campaign(
                session, self.clock, title=title or f"Campaign {next(_counter)}", **overrides
            )

    async def event(
        self, title: str | None = None, *, publish: bool = True, **overrides: Any
    ) -> Event:
        """A published online webinar a week from now unless told otherwise."""
        starts_at = overrides.pop("starts_at", self.clock.now() + dt.timedelta(days=7))
        ends_at = overrides.pop("ends_at", starts_at + dt.timedelta(hours=1))
        fields: dict[str, Any] = {
            "title": title or f"Event {next(_counter)}",
            "kind": EventKind.webinar,
            "format": EventFormat.online,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "joining_url": "https://meet.example.org/secret-room-123",
            "organiser_name": "Events team",
            "organiser_email": "events@example.org",
        }
        fields.update(overrides)
        async with unit_of_work(self.database.writer) as session:
            # Groupings may be given as rows: the service takes their slugs.
            for key in ("series", "campaign"):
                if fields.get(key) is not None and not isinstance(fields[key], str):
                    fields[key] = fields[key].slug
            if fields.get("topics"):
                fields["topics"] = tuple(getattr(t, "slug", t) for t in fields["topics"])
            return await lifecycle.create_event(
                session, self.clock, EventInput(**fields), publish=publish
            )


# Registration helpers ------------------------------------------------------------------

TEST_SECRET = "test-secret-key-test-secret-key-test-secret"
TEST_SIGNER = Signer(TEST_SECRET)


def registration_input(email: str | None = None, **overrides: Any) -> Any:
    from events.registration.schemas import RegistrationInput

    fields: dict[str, Any] = {
        "name": "Sam Teacher",
        "email": email or f"person{next(_counter)}@example.org",
        "consents": ["privacy"],
    }
    fields.update(overrides)
    return RegistrationInput.parse(**fields)


async def register(
    factory: Factory, event: Event, email: str | None = None, **overrides: Any
) -> Any:
    """Register through the service in its own committed unit of work; returns the Outcome."""
    from events.registration import service as registration_service

    async with unit_of_work(factory.database.writer) as session:
        return await registration_service.register(
            session,
            factory.clock,
            event_id=event.id,
            data=registration_input(email, **overrides),
            signer=TEST_SIGNER,
        )
