"""Changing events through the lifecycle (``events.lifecycle``: the catalogue's change and
its effects): what moves calendars and emails people, what does not, and how changes
serialise with each other and with registrations."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from events import lifecycle as service
from events.audit.models import ActorKind, AuditEntry
from events.audit.service import SYSTEM, Actor
from events.catalog.fields import EDITABLE, INVITE_FIELDS, MOVE_FIELDS, EventInput
from events.catalog.lifecycle import event_with_details
from events.catalog.models import Event, EventFormat, EventKind, EventStatus
from events.db import Database, unit_of_work
from events.errors import Conflict, InvalidInput
from events.registration import service as registrations
from events.registration.errors import EventFull
from events.registration.models import RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, register, registration_input
from tests.registration.helpers import by_status, outbox, places_left

ORGANISER = Actor(ActorKind.organiser, organiser_id=None, label="someone@union.example")


async def _input_of(database: Database, event_id: int) -> EventInput:
    """The EventInput that would save the event exactly as it is."""
    async with database.reader() as session:
        event = await event_with_details(session, event_id)
        return EventInput(
            title=event.title,
            kind=event.kind,
            format=event.format,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            summary=event.summary,
            description=event.description,
            all_day=event.all_day,
            venue_name=event.venue_name,
            venue_address=event.venue_address,
            town=event.town,
            postcode=event.postcode,
            region=event.region.slug if event.region else None,
            joining_url=event.joining_url,
            capacity=event.capacity,
            waiting_list_enabled=event.waiting_list_enabled,
            registration_opens_at=event.registration_opens_at,
            registration_closes_at=event.registration_closes_at,
            members_only=event.members_only,
            access=tuple(p.code for p in event.access_provisions),
            access_notes=event.access_notes,
            organiser_name=event.organiser_name,
            organiser_email=event.organiser_email,
            topics=tuple(t.slug for t in event.topics),
            series=event.series.slug if event.series else None,
            campaign=event.campaign.slug if event.campaign else None,
            reminder_offsets=tuple(event.reminder_offsets),
        )


async def _update(make: Factory, event_id: int, data: EventInput) -> service.Applied:
    async with unit_of_work(make.database.writer) as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return await service.update_event(
            session, make.clock, event=event, data=data, actor=ORGANISER, signer=TEST_SIGNER
        )


async def _event(database: Database, event_id: int) -> Event:
    async with database.reader() as session:
        found = await session.get(Event, event_id)
        assert found is not None
        return found


async def _actions(database: Database, event_id: int) -> list[str]:
    async with database.reader() as session:
        rows = await session.execute(
            select(AuditEntry.action).where(AuditEntry.event_id == event_id).order_by(AuditEntry.id)
        )
        return list(rows.scalars())


async def test_a_move_of_place_emails_confirmed_only_and_a_resave_does_nothing(
    make: Factory, database: Database
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True, format=EventFormat.hybrid)
    await register(make, event, "confirmed@example.org")
    await register(make, event, "waiting@example.org")
    data = await _input_of(database, event.id)
    moved = dataclasses.replace(data, venue_name="Town Hall", postcode="m1 1aa")
    change = await _update(make, event.id, moved)
    assert set(change.changed) == {"venue_name", "postcode"}
    assert change.notified == 1
    assert [m.recipient for m in await outbox(database, "event_updated")] == [
        "confirmed@example.org"
    ]
    saved = await _event(database, event.id)
    assert saved.ical_sequence == event.ical_sequence + 1
    assert saved.postcode == "M1 1AA" and saved.postcode_district == "M1"

    again = await _update(make, event.id, moved)
    assert again.changed == [] and again.notified == 0
    assert (await _event(database, event.id)).ical_sequence == saved.ical_sequence
    assert len(await outbox(database, "event_updated")) == 1
    assert (await _actions(database, event.id)).count("event.updated") == 1


async def test_invalid_changes_are_refused_with_field_errors_and_nothing_changes(
    make: Factory, database: Database
) -> None:
    event = await make.event(capacity=3)
    data = await _input_of(database, event.id)
    cases = {
        "ends_at": dataclasses.replace(data, ends_at=data.starts_at - dt.timedelta(hours=1)),
        "capacity": dataclasses.replace(data, capacity=-5),
        "registration_closes_at": dataclasses.replace(
            data,
            registration_opens_at=data.starts_at - dt.timedelta(days=1),
            registration_closes_at=data.starts_at - dt.timedelta(days=2),
        ),
        "joining_url": dataclasses.replace(data, joining_url="http://meet.example.org/x"),
        "slug": dataclasses.replace(data, slug="Not A Slug!"),
    }
    for field, bad in cases.items():
        with pytest.raises(InvalidInput) as refused:
            await _update(make, event.id, bad)
        assert field in refused.value.fields, field
    after = await _event(database, event.id)
    assert (after.capacity, after.joining_url, after.slug) == (3, event.joining_url, event.slug)
    assert "event.updated" not in await _actions(database, event.id)


async def test_slug_changes_only_when_asked_and_must_be_free(
    make: Factory, database: Database
) -> None:
    event = await make.event("First")
    await make.event("Taken")
    data = await _input_of(database, event.id)
    with pytest.raises(InvalidInput) as refused:
        await _update(make, event.id, dataclasses.replace(data, slug="taken"))
    assert "slug" in refused.value.fields
    await _update(make, event.id, dataclasses.replace(data, title="Renamed"))
    assert (await _event(database, event.id)).slug == "first"
    await _update(make, event.id, dataclasses.replace(data, slug="new-address"))
    assert (await _event(database, event.id)).slug == "new-address"


async def test_cancelled_events_cannot_be_edited_and_cancelling_twice_sends_once(
    make: Factory, database: Database
) -> None:
    event = await make.event(capacity=2)
    await register(make, event, "one@example.org")
    for _ in range(2):
        async with unit_of_work(database.writer) as session:
            merged = await session.merge(event)
            await service.cancel_event(session, make.clock, merged, actor=SYSTEM)
    saved = await _event(database, event.id)
    assert saved.status == EventStatus.cancelled
    assert saved.ical_sequence == event.ical_sequence + 1
    assert len(await outbox(database, "event_cancelled")) == 1
    assert (await _actions(database, event.id)).count("event.cancelled") == 1
    # The registration is kept for the record.
    assert len(await by_status(database, event.id, RegistrationStatus.confirmed)) == 1
    data = await _input_of(database, event.id)
    with pytest.raises(Conflict):
        await _update(make, event.id, dataclasses.replace(data, title="Back from the dead"))


async def test_duplicate_keeps_times_and_groupings_without_a_new_date(
    make: Factory, database: Database
) -> None:
    topic = await make.topic("Workload")
    series = await make.series("Series")
    event = await make.event("Source", topics=(topic,), series=series, capacity=4)
    await register(make, event)
    async with unit_of_work(database.writer) as session:
        source = await session.get(Event, event.id)
        assert source is not None
        copy = await service.duplicate_event(session, make.clock, event=source, actor=ORGANISER)
        copy_id = copy.id
    async with database.reader() as session:
        copy = await event_with_details(session, copy_id)
    assert copy.status == EventStatus.draft and copy.uid != event.uid
    assert (copy.starts_at, copy.ends_at) == (event.starts_at, event.ends_at)
    assert [t.slug for t in copy.topics] == ["workload"]
    assert copy.series is not None and copy.series.slug == series.slug
    assert copy.places_left == 4 and copy.ical_sequence == 0
    assert (await _actions(database, event.id))[-1] == "event.duplicated"
    assert await _actions(database, copy_id) == ["event.created"]


async def test_unpublish_is_refused_with_registrations(make: Factory, database: Database) -> None:
    event = await make.event()
    await register(make, event)
    async with unit_of_work(database.writer) as session:
        with pytest.raises(Conflict):
            await service.unpublish_event(
                session, make.clock, await session.merge(event), actor=ORGANISER
            )
    assert (await _event(database, event.id)).status == EventStatus.published


async def test_simultaneous_reschedules_each_raise_the_sequence(
    make: Factory, database: Database
) -> None:
    """Edits take the event's lock: two saves at once are applied one after the other, so
    the sequence goes up twice and each update email carries its own sequence."""
    event = await make.event(capacity=5)
    await register(make, event, "one@example.org")
    data = await _input_of(database, event.id)
    later = [
        dataclasses.replace(
            data,
            starts_at=data.starts_at + dt.timedelta(hours=n),
            ends_at=data.ends_at + dt.timedelta(hours=n),
        )
        for n in (1, 2)
    ]
    changes = await asyncio.gather(*(_update(make, event.id, d) for d in later))
    assert all(c.notified == 1 for c in changes)
    assert (await _event(database, event.id)).ical_sequence == event.ical_sequence + 2
    sequences = sorted(m.payload["sequence"] for m in await outbox(database, "event_updated"))
    assert sequences == [event.ical_sequence + 1, event.ical_sequence + 2]


async def test_raising_capacity_during_a_rush_never_overfills(
    make: Factory, database: Database
) -> None:
    event = await make.event(capacity=2, waiting_list_enabled=True)
    data = await _input_of(database, event.id)

    async def one(n: int) -> object:
        async with unit_of_work(database.writer) as session:
            try:
                return await registrations.register(
                    session,
                    make.clock,
                    event_id=event.id,
                    data=registration_input(f"rush{n}@example.org"),
                    signer=TEST_SIGNER,
                )
            except EventFull as full:
                return full

    results = await asyncio.gather(
        *(one(n) for n in range(8)), _update(make, event.id, dataclasses.replace(data, capacity=5))
    )
    change = results[-1]
    assert isinstance(change, service.Applied) and change.changed == ["capacity"]
    confirmed = await by_status(database, event.id, RegistrationStatus.confirmed)
    waiting = await by_status(database, event.id, RegistrationStatus.waitlisted)
    assert len(confirmed) == 5 and len(waiting) == 3
    assert await places_left(database, event.id) == 0
    kinds = Counter(m.kind for m in await outbox(database))
    # Everyone confirmed got exactly one "you have a place" (confirmed or promoted).
    assert kinds["confirmed"] + kinds["promoted"] == 5


# Issue 13 item 3: every change that shows in a calendar updates it ------------------------

# A new value for each field the invite shows (``fields.INVITE_FIELDS``), valid on the event
# ``_booked_hybrid`` makes.
SHOWN_CHANGES: dict[str, Any] = {
    "starts_at": -dt.timedelta(hours=1),  # a shift of the current value
    "ends_at": dt.timedelta(hours=1),
    "timezone": "Europe/Dublin",
    "all_day": True,
    "format": EventFormat.online,
    "venue_name": "Town Hall",
    "venue_address": "1 High Street",
    "town": "Leeds",
    "postcode": "LS1 1AA",
    "title": "Renamed",
    "summary": "A new summary.",
    "description": "A new description.",
    "joining_url": "https://meet.example.org/another-room",
    "organiser_name": "Another Organiser",
    "organiser_email": "another@union.example.org",
    "slug": "a-new-address",
}


async def _booked_hybrid(make: Factory) -> Event:
    """A hybrid event with one confirmed place (sam) and one person waiting (alex)."""
    event = await make.event(
        "Hybrid clinic",
        capacity=1,
        waiting_list_enabled=True,
        format=EventFormat.hybrid,
        venue_name="Hamilton House",
        town="London",
        postcode="WC1H 9BD",
    )
    await register(make, event, "sam@example.org")
    await register(make, event, "alex@example.org")
    return event


def _changed(data: EventInput, name: str, value: Any) -> EventInput:
    current = getattr(data, name)
    if isinstance(value, dt.timedelta):
        value = current + value
    return dataclasses.replace(data, **{name: value})


async def test_each_field_shown_in_the_invite_sends_confirmed_places_an_update(
    make: Factory, database: Database
) -> None:
    """Changing any field the invite shows, through the service, raises the sequence by one
    and queues one update (METHOD:REQUEST at the new SEQUENCE) per confirmed place; the time
    and place also queue the plain waiting-list notice, the rest do not."""
    assert set(SHOWN_CHANGES) == set(INVITE_FIELDS), "give each shown field a new value"
    event = await _booked_hybrid(make)
    for name, value in SHOWN_CHANGES.items():
        before = await _event(database, event.id)
        updates = len(await outbox(database, "event_updated"))
        waiting = len(await outbox(database, "waitlist_moved"))
        data = await _input_of(database, event.id)
        change = await _update(make, event.id, _changed(data, name, value))
        assert change.changed == [name] and change.notified == 1, name
        after = await _event(database, event.id)
        assert after.ical_sequence == before.ical_sequence + 1, name
        *_, update = await outbox(database, "event_updated")
        assert len(await outbox(database, "event_updated")) == updates + 1, name
        assert update.recipient == "sam@example.org", name
        assert update.payload["changed"] == [name], name
        assert update.payload["sequence"] == after.ical_sequence, name
        moved = await outbox(database, "waitlist_moved")
        if name in MOVE_FIELDS:
            assert change.waitlist_notified == 1 and len(moved) == waiting + 1, name
            assert moved[-1].recipient == "alex@example.org"
            assert moved[-1].payload["changed"] == [name]
        else:
            assert change.waitlist_notified == 0 and len(moved) == waiting, name


async def test_a_change_the_invite_does_not_show_sends_nothing_and_keeps_the_sequence(
    make: Factory, database: Database
) -> None:
    topic = await make.topic("Pay")
    series = await make.series("Pay series")
    campaign = await make.campaign("Pay week")
    hidden: dict[str, Any] = {
        "kind": EventKind.training,
        "region": "wales",
        "waiting_list_enabled": False,
        "registration_opens_at": -dt.timedelta(days=1),
        "registration_closes_at": -dt.timedelta(hours=2),
        "members_only": True,
        "access": ("step_free",),
        "access_notes": "Lift to every floor.",
        "topics": (topic.slug,),
        "series": series.slug,
        "campaign": campaign.slug,
        "reminder_offsets": (30,),
        # Last: the place it adds goes to alex, whose "a place has come up" mail brings the
        # invite; still no update and the same sequence.
        "capacity": 2,
    }
    assert set(hidden) == set(EDITABLE) - set(INVITE_FIELDS), "give each field a new value"
    event = await _booked_hybrid(make)
    queued = Counter(m.kind for m in await outbox(database))
    for name, value in hidden.items():
        data = await _input_of(database, event.id)
        if name.startswith("registration_"):
            value = data.starts_at + value
        elif name == "capacity":
            queued["promoted"] += 1
        change = await _update(make, event.id, dataclasses.replace(data, **{name: value}))
        assert change.changed == [name], name
        assert change.notified == change.waitlist_notified == 0, name
        assert (await _event(database, event.id)).ical_sequence == event.ical_sequence, name
        assert Counter(m.kind for m in await outbox(database)) == queued, name
