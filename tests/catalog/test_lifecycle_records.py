"""The catalogue's lifecycle operations change the event and return a record of what
changed, and cause nothing else: no outbox row, no audit row (``events.lifecycle`` applies
those from the record)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from events.audit.models import AuditEntry
from events.catalog import lifecycle
from events.catalog.fields import EventInput, event_values, input_values
from events.catalog.lifecycle import EventChange, FieldChange, Operation
from events.catalog.models import Event, EventFormat, EventKind, EventStatus
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.errors import Conflict
from events.mail.models import OutboxMessage
from tests.factories import Factory


def _input(clock: FrozenClock, **changes: object) -> EventInput:
    starts = clock.now() + dt.timedelta(days=7)
    data = EventInput(
        title="  Record  ",
        kind=EventKind.webinar,
        format=EventFormat.online,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        joining_url="https://meet.example.org/room",
        capacity=10,
    )
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


async def _side_effects(database: Database) -> tuple[int, int]:
    async with database.reader() as session:
        outbox = (await session.execute(select(func.count(OutboxMessage.id)))).scalar_one()
        audit = (await session.execute(select(func.count(AuditEntry.id)))).scalar_one()
        return outbox, audit


async def _create(make: Factory, **changes: object) -> EventChange:
    async with unit_of_work(make.database.writer) as session:
        return await lifecycle.create_event(session, make.clock, _input(make.clock, **changes))


async def test_create_records_every_field_as_new_and_the_status(
    make: Factory, database: Database
) -> None:
    before = await _side_effects(database)
    change = await _create(make)
    assert change.operation == Operation.created
    assert change.status_before is None and change.status_after == EventStatus.draft
    assert change.fields["title"] == FieldChange(None, "Record")
    assert change.fields["slug"] == FieldChange(None, "record")
    assert change.fields["capacity"] == FieldChange(None, 10)
    assert change.event.places_left == 10 and change.sequence_after == 0
    assert await _side_effects(database) == before


async def test_update_records_old_and_new_values_the_move_and_the_capacity_delta(
    make: Factory, database: Database
) -> None:
    created = await _create(make)
    before = await _side_effects(database)
    async with unit_of_work(database.writer) as session:
        event = await lifecycle.event_with_details(session, created.event.id)
        data = input_values(event_values(event))
        later = data.starts_at + dt.timedelta(hours=2)
        change = await lifecycle.update_event(
            session,
            make.clock,
            event=event,
            data=dataclasses.replace(
                data,
                title="Renamed",
                starts_at=later,
                ends_at=later + dt.timedelta(hours=1),
                capacity=14,
            ),
        )
    assert change.operation == Operation.updated
    assert change.fields["title"] == FieldChange("Record", "Renamed")
    assert change.fields["starts_at"].new == later
    assert set(change.changed) == {"title", "starts_at", "ends_at", "capacity"}
    assert change.moved == ["starts_at", "ends_at"] and change.times_or_place_changed
    assert change.shown == ["starts_at", "ends_at", "title"] and change.invite_changed
    assert change.capacity_delta == 4
    assert (change.sequence_before, change.sequence_after) == (0, 1)
    assert not change.status_changed
    # Capacity is recorded, not applied: places are the registration room's to recount.
    async with database.reader() as session:
        saved = await session.get(Event, created.event.id)
        assert saved is not None and (saved.capacity, saved.places_left) == (10, 10)
        assert saved.title == "Renamed" and saved.ical_sequence == 1
    assert await _side_effects(database) == before


async def test_a_resave_records_nothing_and_a_title_change_updates_the_invite_only(
    make: Factory, database: Database
) -> None:
    created = await _create(make)
    async with unit_of_work(database.writer) as session:
        event = await lifecycle.event_with_details(session, created.event.id)
        data = input_values(event_values(event))
        same = await lifecycle.update_event(session, make.clock, event=event, data=data)
        retitled = await lifecycle.update_event(
            session, make.clock, event=event, data=dataclasses.replace(data, title="Other")
        )
    assert same.nothing and same.changed == [] and same.capacity_delta is None
    assert retitled.changed == ["title"] and retitled.moved == []
    assert not retitled.times_or_place_changed
    # The title shows in the invite (issue 13 item 3): calendars get it, the sequence rises.
    assert retitled.shown == ["title"] and retitled.invite_changed
    assert (retitled.sequence_before, retitled.sequence_after) == (0, 1)


async def test_publish_unpublish_and_cancel_record_the_status_transition(
    make: Factory, database: Database
) -> None:
    created = await _create(make)
    before = await _side_effects(database)
    async with unit_of_work(database.writer) as session:
        event = await session.get(Event, created.event.id)
        assert event is not None
        published = await lifecycle.publish_event(session, make.clock, event)
        again = await lifecycle.publish_event(session, make.clock, event)
        with pytest.raises(Conflict):
            await lifecycle.unpublish_event(session, make.clock, event, has_registrations=True)
        unpublished = await lifecycle.unpublish_event(
            session, make.clock, event, has_registrations=False
        )
        cancelled = await lifecycle.cancel_event(session, make.clock, event)
        twice = await lifecycle.cancel_event(session, make.clock, event)
    assert (published.operation, published.status_before, published.status_after) == (
        Operation.published,
        EventStatus.draft,
        EventStatus.published,
    )
    assert again.nothing
    assert (unpublished.status_before, unpublished.status_after) == (
        EventStatus.published,
        EventStatus.draft,
    )
    assert (cancelled.status_before, cancelled.status_after) == (
        EventStatus.draft,
        EventStatus.cancelled,
    )
    assert (cancelled.sequence_before, cancelled.sequence_after) == (0, 1)
    assert twice.nothing
    assert await _side_effects(database) == before


async def test_duplicate_records_the_copy_and_its_source(make: Factory, database: Database) -> None:
    topic = await make.topic("Copied")
    created = await _create(make, topics=(topic.slug,), access=("bsl",))
    async with unit_of_work(database.writer) as session:
        event = await session.get(Event, created.event.id)
        assert event is not None
        change = await lifecycle.duplicate_event(
            session, make.clock, event=event, starts_on=dt.date(2030, 1, 2), title="Again"
        )
        copy_id, source_id = change.event.id, change.source.id if change.source else None
    assert change.operation == Operation.duplicated and source_id == created.event.id
    assert copy_id != created.event.id and change.status_after == EventStatus.draft
    assert change.fields["title"].new == "Again"
    assert change.fields["topics"].new == ["copied"] and change.fields["access"].new == ["bsl"]
    assert change.fields["starts_at"].new.date() == dt.date(2030, 1, 2)
