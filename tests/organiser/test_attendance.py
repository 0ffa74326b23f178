"""The registrations page and the organiser's operations on registrations: counts, the
access summary, search/filter/sort/pages, adding by hand, moving, confirming, cancelling,
marking attended, the audit trail, and the sign-in sheet."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from events.audit.models import ActorKind, AuditEntry
from events.audit.service import Actor
from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser import attendance
from events.organiser.errors import NotConfirmed
from events.organiser.models import Organiser
from events.registration import service
from events.registration.errors import (
    EventFull,
    NoPlaceLeft,
    NotOnWaitingList,
    RegistrationMissing,
)
from events.registration.models import Registration, RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, register, registration_input
from tests.organiser.helpers import give_event, sign_in
from tests.registration.helpers import csrf_token, outbox, places_left, registrations


async def signed_in_client(
    app: Starlette, database: Database, clock: FrozenClock, organiser: Organiser
) -> httpx.AsyncClient:
    """A client signed in as ``organiser`` (the caller closes it)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    await sign_in(client, database, clock, organiser)
    return client


async def _event(make: Factory, database: Database, owner: Organiser, **fields: Any) -> Event:
    event = await make.event(**fields)
    await give_event(database, event, owner)
    return event


async def _audit(database: Database, registration_id: int) -> list[AuditEntry]:
    async with database.reader() as session:
        rows = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.registration_id == registration_id)
            .order_by(AuditEntry.id)
        )
        return list(rows.scalars())


async def _reg(database: Database, event: Event, email: str) -> Registration:
    found = [r for r in await registrations(database, event.id) if r.email == email]
    assert len(found) == 1
    return found[0]


async def _post(client: httpx.AsyncClient, page: str, path: str, data: Any) -> httpx.Response:
    token = await csrf_token(client, page)
    return await client.post(path, data={"csrf_token": token, **data})


# Counts and the access summary ----------------------------------------------------------


async def test_registrations_page_shows_counts_and_who_needs_each_access_arrangement(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    event = await _event(make, database, organiser, capacity=2, waiting_list_enabled=True)
    consents = ["privacy", "access_data"]
    await register(
        make,
        event,
        "ann@example.org",
        name="Ann Signer",
        access_requirements=["bsl"],
        consents=consents,
    )
    await register(
        make,
        event,
        "bob@example.org",
        name="Bob Reader",
        access_requirements=["bsl", "live_captions"],
        consents=consents,
    )
    await register(
        make,
        event,
        "cy@example.org",
        name="Cy Waiting",
        access_requirements=["live_captions"],
        consents=consents,
    )
    await register(
        make,
        event,
        "di@example.org",
        name="Di Gone",
        access_requirements=["bsl"],
        consents=consents,
    )
    async with unit_of_work(database.writer) as session:
        await service.cancel_by_organiser(
            session,
            make.clock,
            event=event,
            registration_id=(await _reg(database, event, "di@example.org")).id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    async with database.reader() as session:
        counts = await attendance.counts(session, event)
        needs = await attendance.access_summary(session, event)
    assert (counts.confirmed, counts.waitlisted, counts.cancelled, counts.attended) == (2, 1, 1, 0)
    assert {n.code: [p.name for p in n.people] for n in needs} == {
        "bsl": ["Ann Signer", "Bob Reader"],  # Di cancelled: not counted
        "live_captions": ["Bob Reader", "Cy Waiting"],
    }

    # A page number only str.isdigit takes ("²") is page 1, not an error.
    odd = await console.get(f"/organiser/events/{event.slug}/registrations?page=%C2%B2&n=%C2%B2")
    assert odd.status_code == 200
    page = await console.get(f"/organiser/events/{event.slug}/registrations")
    assert page.status_code == 200
    assert "2 British Sign Language interpreter, 2 Live captions" in page.text
    assert re.search(r"<dt>Confirmed</dt><dd>2</dd>", page.text)
    assert re.search(r"<dt>Waiting list</dt><dd>1</dd>", page.text)
    assert (
        "<details" in page.text and "Cy Waiting (cy@example.org), on the waiting list" in page.text
    )


# Listing ---------------------------------------------------------------------------------


async def test_list_searches_filters_sorts_and_pages(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
    clock: FrozenClock,
) -> None:
    event = await _event(make, database, organiser, starts_at=clock.now() + dt.timedelta(hours=1))
    for name in ["Zoe Adams", "amy Brown", "Max Cole", "Ola 100%_Done"]:
        await register(make, event, f"{name.split()[0].lower()}@example.org", name=name)
        clock.advance(dt.timedelta(minutes=1))
    other = await _event(make, database, organiser)
    await register(make, other, "zoe-elsewhere@example.org", name="Zoe Elsewhere")

    async def names(**query: str) -> tuple[list[str], int]:
        async with database.reader() as session:
            page = await attendance.registrations_page(
                session, event, attendance.ListingFilters.parse(query), per_page=2
            )
        return [r.name for r in page.items], page.total

    assert await names() == (["Zoe Adams", "amy Brown"], 4)
    assert await names(page="2") == (["Max Cole", "Ola 100%_Done"], 4)
    assert await names(page="99") == (["Max Cole", "Ola 100%_Done"], 4)  # the last page
    assert await names(sort="name") == (["amy Brown", "Max Cole"], 4)  # any case
    assert await names(sort="-date") == (["Ola 100%_Done", "Max Cole"], 4)
    assert await names(q="ZOE") == (["Zoe Adams"], 1)  # not the other event's Zoe
    assert await names(q="max@EXAMPLE") == (["Max Cole"], 1)
    assert await names(q="%") == (["Ola 100%_Done"], 1)  # wildcards are plain text
    assert await names(q="nobody") == ([], 0)

    max_cole = await _reg(database, event, "max@example.org")
    clock.advance(dt.timedelta(hours=1))  # the event has started
    async with unit_of_work(database.writer) as session:
        await attendance.set_attended(
            session,
            clock,
            event=event,
            registration_ids=[max_cole.id],
            attended=True,
            actor=Actor.of(organiser),
        )
    assert await names(attended="yes") == (["Max Cole"], 1)
    assert (await names(attended="no"))[1] == 3
    assert (await names(status="waitlisted"))[1] == 0
    assert (await names(status="nonsense", sort="bogus", page="-3"))[1] == 4  # ignored, not errors

    page = await console.get(f"/organiser/events/{event.slug}/registrations?q=zoe")
    assert "Zoe Adams" in page.text and "Max Cole" not in page.text


# Adding by hand -------------------------------------------------------------------------


async def test_add_by_hand_ignores_the_window_but_not_capacity_and_never_twice(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    import datetime as dt

    event = await _event(
        make,
        database,
        organiser,
        capacity=1,
        waiting_list_enabled=False,
        members_only=True,
        registration_closes_at=clock.now() - dt.timedelta(hours=1),
    )
    actor = Actor.of(organiser)

    async def add(email: str, status: str = "auto") -> Registration:
        async with unit_of_work(database.writer) as session:
            registration, _ = await service.add_by_hand(
                session,
                clock,
                event=event,
                data=registration_input(email),
                actor=actor,
                signer=TEST_SIGNER,
                status=status,
            )
            return registration

    first = await add("walk-in@example.org")
    assert first.status == RegistrationStatus.confirmed
    again = await add("Walk-In@Example.org ")
    assert again.id == first.id
    assert len(await registrations(database, event.id)) == 1
    assert await places_left(database, event.id) == 0
    with pytest.raises(EventFull):
        await add("late@example.org")
    with pytest.raises(NoPlaceLeft):
        await add("late@example.org", "confirmed")
    waiting = await add("late@example.org", "waitlisted")
    assert waiting.status == RegistrationStatus.waitlisted and waiting.waiting_list_number == 1
    assert [m.kind for m in await outbox(database) if m.recipient == "walk-in@example.org"] == [
        "confirmed"
    ]
    created = await _audit(database, first.id)
    assert [(a.action, a.actor_kind, a.organiser_id) for a in created] == [
        ("registration.created", ActorKind.organiser, organiser.id)
    ]


async def test_add_by_hand_page_adds_and_shows_field_errors(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    event = await _event(make, database, organiser, capacity=5)
    page = f"/organiser/events/{event.slug}/registrations/new"
    bad = await _post(
        console, page, page, {"name": "", "email": "not-an-email", "consents": "privacy"}
    )
    assert bad.status_code == 422
    assert "Enter your name." in bad.text and 'aria-invalid="true"' in bad.text
    assert await registrations(database, event.id) == []

    done = await _post(
        console,
        page,
        page,
        {"name": "Pat Guest", "email": "pat@example.org", "consents": "privacy", "status": "auto"},
    )
    assert done.status_code == 303
    shown = await console.get(done.headers["location"])
    assert "The registration has been added" in shown.text and "Pat Guest" in shown.text
    twice = await _post(
        console,
        page,
        page,
        {"name": "Pat Again", "email": "PAT@example.org", "consents": "privacy"},
    )
    assert "done=existing" in twice.headers["location"]
    assert [r.name for r in await registrations(database, event.id)] == ["Pat Guest"]


# Moving, confirming, cancelling ---------------------------------------------------------


async def test_move_to_waiting_list_gives_the_place_to_the_first_waiting_not_back(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _event(make, database, organiser, capacity=1, waiting_list_enabled=True)
    await register(make, event, "a@example.org")
    await register(make, event, "b@example.org")
    await register(make, event, "c@example.org")
    a = await _reg(database, event, "a@example.org")
    async with unit_of_work(database.writer) as session:
        moved = await service.move_to_waiting_list(
            session,
            clock,
            event=event,
            registration_id=a.id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    assert moved.status == RegistrationStatus.waitlisted
    by_email = {r.email: r for r in await registrations(database, event.id)}
    assert by_email["b@example.org"].status == RegistrationStatus.confirmed
    assert by_email["c@example.org"].status == RegistrationStatus.waitlisted
    # a joins behind c
    a_number = by_email["a@example.org"].waiting_list_number
    c_number = by_email["c@example.org"].waiting_list_number
    assert a_number is not None and c_number is not None and a_number > c_number
    assert await places_left(database, event.id) == 0
    kinds = [(m.kind, m.recipient) for m in await outbox(database)][-2:]
    assert ("promoted", "b@example.org") in kinds and ("waitlisted", "a@example.org") in kinds
    actions = [(e.action, e.actor_kind) for e in await _audit(database, a.id)]
    assert ("registration.moved_to_waiting_list", ActorKind.organiser) in actions
    b_actions = [
        (e.action, e.actor_kind) for e in await _audit(database, by_email["b@example.org"].id)
    ]
    assert ("registration.promoted", ActorKind.system) in b_actions


async def test_moving_the_only_person_leaves_the_place_free(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _event(make, database, organiser, capacity=1, waiting_list_enabled=True)
    await register(make, event, "a@example.org")
    a = await _reg(database, event, "a@example.org")
    async with unit_of_work(database.writer) as session:
        await service.move_to_waiting_list(
            session,
            clock,
            event=event,
            registration_id=a.id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    assert (await _reg(database, event, "a@example.org")).status == RegistrationStatus.waitlisted
    assert await places_left(database, event.id) == 1


async def test_confirm_from_waiting_list_needs_a_free_place_and_can_jump_the_queue(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _event(make, database, organiser, capacity=1, waiting_list_enabled=True)
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        await register(make, event, email)
    c = await _reg(database, event, "c@example.org")

    async def confirm_in(target: Event, registration_id: int) -> Registration:
        async with unit_of_work(database.writer) as session:
            return await service.confirm_from_waiting_list(
                session,
                clock,
                event=target,
                registration_id=registration_id,
                actor=Actor.of(organiser),
                signer=TEST_SIGNER,
            )

    async def confirm(registration_id: int) -> Registration:
        return await confirm_in(event, registration_id)

    with pytest.raises(NoPlaceLeft):
        await confirm(c.id)
    assert (await _reg(database, event, "c@example.org")).status == RegistrationStatus.waitlisted
    async with unit_of_work(database.writer) as session:
        await service.change_capacity(
            session, clock, event_id=event.id, capacity_=3, signer=TEST_SIGNER
        )
    # Raising capacity promoted b and c in order; a is confirmed already.
    assert all(
        r.status == RegistrationStatus.confirmed for r in await registrations(database, event.id)
    )
    with pytest.raises(NotOnWaitingList):
        await confirm(c.id)

    event2 = await _event(make, database, organiser, capacity=2, waiting_list_enabled=True)
    for email in ("a@example.org", "b@example.org", "c@example.org", "d@example.org"):
        await register(make, event2, email)
    async with unit_of_work(database.writer) as session:
        await service.cancel_by_organiser(
            session,
            clock,
            event=event2,
            registration_id=(await _reg(database, event2, "a@example.org")).id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    # The freed place went to c (first waiting), d still waits.
    statuses = {r.email: r.status for r in await registrations(database, event2.id)}
    assert statuses["c@example.org"] == RegistrationStatus.confirmed
    assert statuses["d@example.org"] == RegistrationStatus.waitlisted
    async with unit_of_work(database.writer) as session:
        await service.move_to_waiting_list(
            session,
            clock,
            event=event2,
            registration_id=(await _reg(database, event2, "b@example.org")).id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    statuses = {r.email: r.status for r in await registrations(database, event2.id)}
    assert statuses["d@example.org"] == RegistrationStatus.confirmed  # d was ahead of b now
    assert statuses["b@example.org"] == RegistrationStatus.waitlisted
    async with unit_of_work(database.writer) as session:
        await service.cancel_by_organiser(
            session,
            clock,
            event=event2,
            registration_id=(await _reg(database, event2, "d@example.org")).id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    assert (await _reg(database, event2, "b@example.org")).status == RegistrationStatus.confirmed
    assert [
        m.kind
        for m in await outbox(database)
        if m.recipient == "b@example.org" and m.event_id == event2.id
    ] == ["confirmed", "waitlisted", "promoted"]
    # c, promoted once, is moved back and given a place again: a second "promoted" email,
    # not swallowed by the first one's dedupe key.
    c2 = await _reg(database, event2, "c@example.org")
    async with unit_of_work(database.writer) as session:
        await service.move_to_waiting_list(
            session,
            clock,
            event=event2,
            registration_id=c2.id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    await confirm_in(event2, c2.id)
    assert [
        m.kind
        for m in await outbox(database)
        if m.recipient == "c@example.org" and m.event_id == event2.id
    ].count("promoted") == 2


async def test_cancel_by_organiser_emails_promotes_and_is_audited(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    event = await _event(make, database, organiser, capacity=1, waiting_list_enabled=True)
    await register(make, event, "a@example.org")
    await register(make, event, "b@example.org")
    a = await _reg(database, event, "a@example.org")
    page = f"/organiser/events/{event.slug}/registrations/{a.id}/cancel"
    confirm = await console.get(page)
    assert confirm.status_code == 200 and "a@example.org" in confirm.text
    done = await _post(console, page, page, {})
    assert done.status_code == 303
    assert (await _reg(database, event, "a@example.org")).status == RegistrationStatus.cancelled
    assert (await _reg(database, event, "b@example.org")).status == RegistrationStatus.confirmed
    sent = [(m.kind, m.recipient) for m in await outbox(database)]
    assert ("cancelled", "a@example.org") in sent and ("promoted", "b@example.org") in sent
    audit = await _audit(database, a.id)
    assert audit[-1].action == "registration.cancelled"
    assert audit[-1].actor_label == organiser.email
    assert audit[-1].before["status"] == "confirmed" and audit[-1].after["status"] == "cancelled"
    assert "access_requirements" not in audit[-1].after
    # Cancelling again: a clear refusal, nothing changes.
    again = await _post(console, f"/organiser/events/{event.slug}/registrations", page, {})
    assert again.status_code == 409 and "already cancelled" in again.text
    assert len(await _audit(database, a.id)) == len(audit)


async def test_member_actions_are_audited_without_personal_data(
    make: Factory, database: Database, clock: FrozenClock
) -> None:
    from tests.registration.helpers import latest_token

    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(
        make,
        event,
        "m@example.org",
        access_requirements=["bsl"],
        consents=["privacy", "access_data"],
    )
    await register(make, event, "w@example.org")
    token = await latest_token(database, "m@example.org")
    async with unit_of_work(database.writer) as session:
        await service.cancel(session, clock, token=token, signer=TEST_SIGNER)
    m = await _reg(database, event, "m@example.org")
    w = await _reg(database, event, "w@example.org")
    assert [(e.action, e.actor_kind) for e in await _audit(database, m.id)] == [
        ("registration.created", ActorKind.member),
        ("registration.cancelled", ActorKind.member),
    ]
    assert [(e.action, e.actor_kind) for e in await _audit(database, w.id)] == [
        ("registration.created", ActorKind.member),
        ("registration.promoted", ActorKind.system),
    ]
    for entry in await _audit(database, m.id):
        assert "bsl" not in repr(entry.before) + repr(entry.after)
        assert "m@example.org" not in repr(entry.before) + repr(entry.after) + entry.actor_label


async def test_ids_from_another_event_are_not_found_and_change_nothing(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    mine = await _event(make, database, organiser, capacity=5)
    other = await make.event(capacity=5)
    await register(make, other, "x@example.org")
    x = await _reg(database, other, "x@example.org")
    for operation in (
        service.move_to_waiting_list,
        service.confirm_from_waiting_list,
        service.cancel_by_organiser,
    ):
        with pytest.raises(RegistrationMissing):
            async with unit_of_work(database.writer) as session:
                await operation(
                    session,
                    clock,
                    event=mine,
                    registration_id=x.id,
                    actor=Actor.of(organiser),
                    signer=TEST_SIGNER,
                )
    clock.advance(dt.timedelta(days=8))  # both events have started
    async with unit_of_work(database.writer) as session:
        changed = await attendance.set_attended(
            session,
            clock,
            event=mine,
            registration_ids=[x.id],
            attended=True,
            actor=Actor.of(organiser),
        )
    assert changed == 0
    x_now = await _reg(database, other, "x@example.org")
    assert x_now.status == RegistrationStatus.confirmed and not x_now.attended


# Attendance -----------------------------------------------------------------------------


async def test_bulk_and_single_attendance_marking(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
    clock: FrozenClock,
) -> None:
    event = await _event(make, database, organiser, starts_at=clock.now() + dt.timedelta(hours=1))
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        await register(make, event, email)
    clock.advance(dt.timedelta(hours=2))  # the event has started
    a, b, c = [
        await _reg(database, event, e) for e in ("a@example.org", "b@example.org", "c@example.org")
    ]
    listing = f"/organiser/events/{event.slug}/registrations"
    action = f"{listing}/attended"
    done = await _post(console, listing, action, {"ids": [str(a.id), str(b.id)], "attended": "yes"})
    assert done.status_code == 303 and "n=2" in done.headers["location"]
    marked = {r.email: r.attended for r in await registrations(database, event.id)}
    assert marked == {"a@example.org": True, "b@example.org": True, "c@example.org": False}
    shown = await console.get(done.headers["location"])
    assert "Attendance updated for 2 registration(s)." in shown.text
    assert re.search(r"<dt>Attended</dt><dd>2</dd>", shown.text)

    await _post(console, listing, action, {"one": f"{b.id}:no"})
    await _post(console, listing, action, {"one": f"{c.id}:yes"})
    marked = {r.email: r.attended for r in await registrations(database, event.id)}
    assert marked == {"a@example.org": True, "b@example.org": False, "c@example.org": True}
    assert [e.action for e in await _audit(database, b.id)][-2:] == [
        "registration.attended",
        "registration.not_attended",
    ]
    nothing = await _post(console, listing, action, {"attended": "yes"})
    assert nothing.status_code == 422


async def test_only_confirmed_people_can_be_marked_attended_and_not_before_the_start(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
    clock: FrozenClock,
) -> None:
    event = await _event(
        make,
        database,
        organiser,
        capacity=1,
        waiting_list_enabled=True,
        starts_at=clock.now() + dt.timedelta(hours=1),
    )
    await register(make, event, "in@example.org", name="Ina Place")
    await register(make, event, "wait@example.org", name="Walt Waiting")
    ina = await _reg(database, event, "in@example.org")
    walt = await _reg(database, event, "wait@example.org")
    listing = f"/organiser/events/{event.slug}/registrations"
    action = f"{listing}/attended"

    page = await console.get(listing)
    assert "Attendance can be marked once the event starts" in page.text
    assert "Mark attended" not in page.text and "Mark selected as attended" not in page.text
    early = await _post(console, listing, action, {"one": f"{ina.id}:yes"})
    assert early.status_code == 409
    assert "This event has not started yet: attendance can be marked from" in early.text
    assert 'role="alert"' in early.text

    clock.advance(dt.timedelta(hours=1))  # the start, to the second
    page = await console.get(listing)
    assert f'value="{ina.id}:yes"' in page.text  # a button for the confirmed person...
    assert f'value="{walt.id}:yes"' not in page.text  # ...none for the one waiting
    refused = await _post(console, listing, action, {"one": f"{walt.id}:yes"})
    assert refused.status_code == 409
    assert "Only people with a confirmed place can be marked as attended" in refused.text
    assert f"Walt Waiting (registration {walt.id}) is on the waiting list" in refused.text
    bulk = await _post(
        console, listing, action, {"ids": [str(ina.id), str(walt.id)]} | {"attended": "yes"}
    )
    assert bulk.status_code == 409 and "Walt Waiting" in bulk.text
    assert {r.email: r.attended for r in await registrations(database, event.id)} == {
        "in@example.org": False,
        "wait@example.org": False,
    }
    done = await _post(console, listing, action, {"ids": [str(ina.id)], "attended": "yes"})
    assert done.status_code == 303 and "n=1" in done.headers["location"]

    # A cancelled registration is refused too, naming why.
    async with unit_of_work(database.writer) as session:
        await service.cancel_by_organiser(
            session,
            clock,
            event=event,
            registration_id=walt.id,
            actor=Actor.of(organiser),
            signer=TEST_SIGNER,
        )
    with pytest.raises(NotConfirmed, match="has cancelled"):
        async with unit_of_work(database.writer) as session:
            await attendance.set_attended(
                session,
                clock,
                event=event,
                registration_ids=[walt.id],
                attended=True,
                actor=Actor.of(organiser),
            )


async def test_an_attendance_report_is_refused_before_the_event_starts(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    event = await _event(make, database, organiser)
    await register(make, event, "in@example.org")
    path = f"/organiser/events/{event.slug}/attendance/import"
    token = await csrf_token(console, path)
    refused = await console.post(
        path,
        data={"csrf_token": token},
        files={"file": ("zoom.csv", b"Name,User Email,Join Time\r\nIna,in@example.org,x\r\n")},
    )
    assert refused.status_code == 409
    assert "This event has not started yet" in refused.text
    assert [r.attended for r in await registrations(database, event.id)] == [False]


# Sign-in sheet --------------------------------------------------------------------------


async def test_sign_in_sheet_lists_confirmed_attendees_by_name_with_a_signature_column(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    from events.catalog.models import EventFormat

    event = await _event(
        make,
        database,
        organiser,
        capacity=2,
        waiting_list_enabled=True,
        format=EventFormat.in_person,
        venue_name="Town Hall",
        town="Leeds",
        joining_url="",
    )
    await register(make, event, "z@example.org", name="Zed Last")
    await register(make, event, "a@example.org", name="alma First")
    await register(make, event, "w@example.org", name="Wait Ing")
    page = await console.get(f"/organiser/events/{event.slug}/sign-in-sheet")
    assert page.status_code == 200
    assert page.text.index("alma First") < page.text.index("Zed Last")
    assert "Wait Ing" not in page.text
    assert "Signature" in page.text and 'class="sign-in-sheet__signature"></td>' in page.text
    assert "2 confirmed attendees" in page.text and "Town Hall" in page.text
    css = await console.get("/static/print.css")
    assert ".sign-in-sheet__table" in css.text


# Concurrency (real transactions, committed) ---------------------------------------------


async def _confirm_concurrently(
    database: Database, clock: FrozenClock, event: Event, organiser: Organiser, *, guarded: bool
) -> Counter[str]:
    """Everyone waiting is confirmed at once, each in its own session; how each ended."""
    import asyncio

    waiting = await registrations(database, event.id)
    # The reader has no BEGIN IMMEDIATE: with the guard disabled, nothing serialises them.
    sessionmaker = database.writer if guarded else database.reader

    async def confirm(registration_id: int) -> str:
        try:
            async with unit_of_work(sessionmaker) as session:
                await service.confirm_from_waiting_list(
                    session,
                    clock,
                    event=event,
                    registration_id=registration_id,
                    actor=Actor.of(organiser),
                    signer=TEST_SIGNER,
                )
        except NoPlaceLeft:
            return "refused"
        except Exception:
            return "failed"
        return "confirmed"

    return Counter(await asyncio.gather(*(confirm(r.id) for r in waiting)))


async def _all_waiting(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> Event:
    """Ten free places and thirty people put on the waiting list by hand."""
    event = await _event(make, database, organiser, capacity=10, waiting_list_enabled=True)
    for n in range(30):
        async with unit_of_work(database.writer) as session:
            await service.add_by_hand(
                session,
                clock,
                event=event,
                data=registration_input(f"w{n}@example.org"),
                actor=Actor.of(organiser),
                signer=TEST_SIGNER,
                status="waitlisted",
            )
    assert await places_left(database, event.id) == 10
    return event


async def test_organisers_confirming_at_once_never_exceed_capacity(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _all_waiting(make, database, organiser, clock)
    results = await _confirm_concurrently(database, clock, event, organiser, guarded=True)
    assert results == Counter(confirmed=10, refused=20)
    statuses = Counter(r.status for r in await registrations(database, event.id))
    assert statuses == Counter(
        {RegistrationStatus.confirmed: 10, RegistrationStatus.waitlisted: 20}
    )
    assert await places_left(database, event.id) == 0


async def test_confirm_race_is_visible_when_the_guard_is_disabled(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control for the test above, with the harness of the registration race's control:
    no event lock, a read-await-write claim, no BEGIN IMMEDIATE. PostgreSQL then gives more
    places than exist; SQLite turns the collisions into failures."""
    from events.registration import capacity
    from tests.registration.test_capacity_concurrency import _racy_claim, _unlocked_event

    event = await _all_waiting(make, database, organiser, clock)
    monkeypatch.setattr(capacity, "claim_place", _racy_claim)
    monkeypatch.setattr(capacity, "locked_event", _unlocked_event)
    results = await _confirm_concurrently(database, clock, event, organiser, guarded=False)
    if database.engine.dialect.name == "postgresql":
        assert results["confirmed"] > 10, results
    else:
        assert results["failed"] > 0, results


async def test_the_same_person_added_twice_at_once_gets_one_registration(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    import asyncio

    event = await _event(make, database, organiser, capacity=5)

    async def add() -> int:
        async with unit_of_work(database.writer) as session:
            registration, _ = await service.add_by_hand(
                session,
                clock,
                event=event,
                data=registration_input("same@example.org"),
                actor=Actor.of(organiser),
                signer=TEST_SIGNER,
            )
            return registration.id

    ids = await asyncio.gather(add(), add(), add())
    assert len(set(ids)) == 1
    assert len(await registrations(database, event.id)) == 1
    assert await places_left(database, event.id) == 4
