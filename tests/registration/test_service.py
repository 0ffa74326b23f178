"""Registration rules, called through the service as every door (HTML, API, CLI) calls it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from events import lifecycle as catalog_service
from events.db import unit_of_work
from events.errors import Conflict
from events.mail.models import OutboxMessage
from events.registration import capacity, service
from events.registration.errors import (
    EventCancelled,
    EventFull,
    EventNotPublished,
    EventPast,
    MembershipRequired,
    RegistrationClosed,
    RegistrationNotFound,
    RegistrationNotOpen,
)
from events.registration.models import RegistrationStatus, RegistrationToken
from events.registration.service import RESEND_QUIET
from events.registration.tokens import LinkSet
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import by_status, latest_token, outbox, places_left, registrations

CONFIRMED = RegistrationStatus.confirmed
WAITLISTED = RegistrationStatus.waitlisted
CANCELLED = RegistrationStatus.cancelled


async def _cancel(make: Factory, token: str) -> service.CancelOutcome:
    async with unit_of_work(make.database.writer) as session:
        return await service.cancel(session, make.clock, token=token, signer=TEST_SIGNER)


async def test_register_confirms_and_takes_a_place_when_places_are_left(make: Factory) -> None:
    event = await make.event(capacity=2)
    outcome = await register(make, event, "a@example.org")
    assert outcome.status == CONFIRMED and outcome.position is None
    assert await places_left(make.database, event.id) == 1
    [message] = await outbox(make.database)
    assert message.kind == "confirmed" and message.recipient == "a@example.org"
    assert message.payload["manage_token"] and message.payload["join_token"]


async def test_register_is_unlimited_when_the_event_has_no_capacity(make: Factory) -> None:
    event = await make.event(capacity=None)
    for n in range(3):
        assert (await register(make, event, f"u{n}@example.org")).status == CONFIRMED
    assert await places_left(make.database, event.id) is None


async def test_register_joins_waiting_list_in_order_when_full(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event)
    first = await register(make, event)
    second = await register(make, event)
    assert (first.status, first.position) == (WAITLISTED, 1)
    assert (second.status, second.position) == (WAITLISTED, 2)
    assert [m.kind for m in await outbox(make.database)] == [
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]


async def test_register_refuses_with_event_full_when_full_without_waiting_list(
    make: Factory,
) -> None:
    event = await make.event(capacity=1)
    await register(make, event)
    with pytest.raises(EventFull) as refused:
        await register(make, event)
    assert refused.value.code == "event_full" and refused.value.status == 409
    assert len(await registrations(make.database, event.id)) == 1
    assert len(await outbox(make.database)) == 1


async def test_register_again_gives_no_second_place_and_resends_when_email_differs_in_case(
    make: Factory,
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "Jo@Example.org")
    make.clock.advance(RESEND_QUIET)
    again = await register(make, event, "jo@example.org")
    assert again.status == CONFIRMED  # what a newcomer would be told: nothing revealed
    [row] = await registrations(make.database, event.id)
    assert row.email == "jo@example.org"
    assert await places_left(make.database, event.id) == 4
    messages = await outbox(make.database)
    assert [m.kind for m in messages] == ["confirmed", "confirmed"]
    assert messages[1].payload["resent"] is True
    make.clock.advance(RESEND_QUIET)
    third = await register(make, event, "jo@example.org")
    assert third.status == CONFIRMED
    assert len(await outbox(make.database)) == 3  # each resend is its own message


async def test_register_again_sends_a_new_link_and_the_old_one_still_works(make: Factory) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    old = await latest_token(make.database, "jo@example.org")
    make.clock.advance(RESEND_QUIET)
    await register(make, event, "jo@example.org")
    new = await latest_token(make.database, "jo@example.org")
    assert old != new
    assert not (await _cancel(make, old)).already_cancelled
    assert (await _cancel(make, new)).already_cancelled


async def test_register_again_when_full_without_waiting_list_answers_full_but_still_resends(
    make: Factory,
) -> None:
    event = await make.event(capacity=1)
    await register(make, event, "jo@example.org")
    make.clock.advance(RESEND_QUIET)
    outcome = await register(make, event, "jo@example.org")
    assert isinstance(outcome.refused, EventFull)
    assert len(await outbox(make.database)) == 2


async def test_register_again_at_once_answers_the_same_and_sends_nothing_more(
    make: Factory,
) -> None:
    """A double-click, or the form sent again from the history: one email, not two."""
    event = await make.event(capacity=5)
    first = await register(make, event, "jo@example.org")
    make.clock.advance(RESEND_QUIET - dt.timedelta(seconds=1))
    again = await register(make, event, "jo@example.org")
    assert (again.status, again.position) == (first.status, first.position)
    assert len(await outbox(make.database)) == 1
    make.clock.advance(dt.timedelta(seconds=1))
    await register(make, event, "jo@example.org")
    assert len(await outbox(make.database)) == 2, "later, a lost email is sent again"


@pytest.mark.parametrize(
    ("overrides", "error", "code"),
    [
        ({"publish": False}, EventNotPublished, "event_not_published"),
        ({"registration_opens_at_days": 1}, RegistrationNotOpen, "registration_not_open"),
        ({"registration_closes_at_days": -1}, RegistrationClosed, "registration_closed"),
        ({"past": True}, EventPast, "event_past"),
    ],
)
async def test_register_refuses_outside_window_with_code(
    make: Factory, overrides: dict[str, object], error: type[Exception], code: str
) -> None:
    now = make.clock.now()
    fields: dict[str, object] = {"capacity": 10}
    if "publish" in overrides:
        fields["publish"] = False
    if "registration_opens_at_days" in overrides:
        fields["registration_opens_at"] = now + dt.timedelta(days=1)
    if "registration_closes_at_days" in overrides:
        fields["registration_opens_at"] = now - dt.timedelta(days=3)
        fields["registration_closes_at"] = now - dt.timedelta(days=1)
    if "past" in overrides:
        fields["starts_at"] = now - dt.timedelta(days=2)
    event = await make.event(**fields)  # type: ignore[arg-type]
    with pytest.raises(error) as refused:
        await register(make, event)
    assert refused.value.code == code  # type: ignore[attr-defined]
    assert await registrations(make.database, event.id) == []
    assert await outbox(make.database) == []
    assert await places_left(make.database, event.id) == 10


async def test_register_refuses_when_event_is_cancelled(make: Factory) -> None:
    event = await make.event(capacity=3)
    async with unit_of_work(make.database.writer) as session:
        await catalog_service.cancel_event(session, make.clock, await session.merge(event))
    with pytest.raises(EventCancelled):
        await register(make, event)


async def test_register_refuses_members_only_without_valid_membership_number(make: Factory) -> None:
    event = await make.event(members_only=True)
    with pytest.raises(MembershipRequired) as refused:
        await register(make, event)
    assert "membership_number" in refused.value.fields
    assert (await register(make, event, membership_number="1234567")).status == CONFIRMED


async def test_cancel_frees_the_place_and_promotes_the_first_waiting(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event, "holder@example.org")
    await register(make, event, "first@example.org")
    await register(make, event, "second@example.org")
    outcome = await _cancel(make, await latest_token(make.database, "holder@example.org"))
    assert not outcome.already_cancelled
    assert [r.email for r in outcome.promoted] == ["first@example.org"]
    assert await places_left(make.database, event.id) == 0
    [waiting] = await by_status(make.database, event.id, WAITLISTED)
    assert waiting.email == "second@example.org"
    kinds = [(m.kind, m.recipient) for m in await outbox(make.database)][3:]
    assert kinds == [("cancelled", "holder@example.org"), ("promoted", "first@example.org")]


async def test_cancel_twice_says_already_cancelled_and_changes_nothing(make: Factory) -> None:
    event = await make.event(capacity=2)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    assert not (await _cancel(make, token)).already_cancelled
    before = len(await outbox(make.database))
    again = await _cancel(make, token)
    assert again.already_cancelled
    assert len(await outbox(make.database)) == before
    assert await places_left(make.database, event.id) == 2


async def test_cancel_with_wrong_token_is_not_found(make: Factory) -> None:
    event = await make.event(capacity=2)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    for wrong in ["x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "", "../../etc"]:
        with pytest.raises(RegistrationNotFound):
            await _cancel(make, wrong)
    assert await places_left(make.database, event.id) == 1


async def test_cancel_from_waiting_list_promotes_nobody(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event, "holder@example.org")
    await register(make, event, "first@example.org")
    await register(make, event, "second@example.org")
    outcome = await _cancel(make, await latest_token(make.database, "first@example.org"))
    assert outcome.promoted == []
    assert await places_left(make.database, event.id) == 0
    again = await register(make, event, "third@example.org")
    assert again.position == 2  # second is now first in the queue; third comes after


async def test_token_is_stored_only_as_keyed_hash(make: Factory) -> None:
    event = await make.event(capacity=2)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    [row] = await registrations(make.database, event.id)
    async with make.database.reader() as session:
        stored = dict(
            (
                await session.execute(
                    select(RegistrationToken.purpose, RegistrationToken.token_hash).where(
                        RegistrationToken.registration_id == row.id
                    )
                )
            ).all()
        )
    links = LinkSet.from_manage(TEST_SIGNER, token)
    assert stored == links.hashes(TEST_SIGNER)
    assert not {token, links.join, links.calendar} & set(stored.values())
    assert len(token) >= 43  # 256 random bits, url-safe


async def test_capacity_raised_promotes_waiting_in_order(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    for name in ("a", "b", "c", "d"):
        await register(make, event, f"{name}@example.org")
    async with unit_of_work(make.database.writer) as session:
        promoted = await service.change_capacity(
            session, make.clock, event_id=event.id, capacity_=3, signer=TEST_SIGNER
        )
    assert [r.email for r in promoted] == ["b@example.org", "c@example.org"]
    assert await places_left(make.database, event.id) == 0
    assert [m.recipient for m in await outbox(make.database, "promoted")] == [
        "b@example.org",
        "c@example.org",
    ]


async def test_capacity_lowered_below_confirmed_is_refused(make: Factory) -> None:
    event = await make.event(capacity=3)
    await register(make, event)
    await register(make, event)
    with pytest.raises(Conflict):
        async with unit_of_work(make.database.writer) as session:
            await service.change_capacity(
                session, make.clock, event_id=event.id, capacity_=1, signer=TEST_SIGNER
            )
    assert await places_left(make.database, event.id) == 1


async def test_outbox_rows_vanish_when_the_transaction_rolls_back(make: Factory) -> None:
    event = await make.event(capacity=3)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with unit_of_work(make.database.writer) as session:
            await service.register(
                session,
                make.clock,
                event_id=event.id,
                data=__import__("tests.factories").factories.registration_input("jo@example.org"),
                signer=TEST_SIGNER,
            )
            raise Boom
    assert await outbox(make.database) == []
    assert await registrations(make.database, event.id) == []
    assert await places_left(make.database, event.id) == 3


async def test_outbox_dedupe_key_queues_a_change_once(make: Factory) -> None:
    from events.mail.outbox import enqueue
    from events.registration.messages import Confirmed

    message = Confirmed(event_id=1)
    async with unit_of_work(make.database.writer) as session:
        first = await enqueue(
            session, make.clock, message=message, recipient="r@example.org", dedupe_key="x"
        )
        second = await enqueue(
            session, make.clock, message=message, recipient="r@example.org", dedupe_key="x"
        )
        assert first is second
        count = len((await session.execute(select(OutboxMessage))).scalars().all())
    assert count == 1


async def test_capacity_claim_refuses_to_run_outside_a_transaction(make: Factory) -> None:
    event = await make.event(capacity=3)
    async with make.database.writer() as session:
        with pytest.raises(capacity.NotInTransaction):
            await capacity.claim_place(session, event.id)
    assert await places_left(make.database, event.id) == 3


async def test_series_registration_books_each_future_session(make: Factory) -> None:
    series = await make.series("Small group interventions")
    now = make.clock.now()
    one = await make.event("Session 1", series=series, capacity=5)
    two = await make.event(
        "Session 2",
        series=series,
        capacity=1,
        waiting_list_enabled=True,
        starts_at=now + dt.timedelta(days=14),
    )
    three = await make.event(
        "Session 3", series=series, capacity=1, starts_at=now + dt.timedelta(days=21)
    )
    await make.event("Earlier", series=series, starts_at=now - dt.timedelta(days=7))
    await register(make, two, "other@example.org")
    await register(make, three, "other@example.org")
    from tests.factories import registration_input

    async with unit_of_work(make.database.writer) as session:
        _, items = await service.register_for_series(
            session,
            make.clock,
            series_id=series.id,
            data=registration_input("jo@example.org"),
            signer=TEST_SIGNER,
        )
    summary = [
        (
            i.event.title,
            i.outcome.status if i.outcome else None,
            i.refused.code if i.refused else None,
        )
        for i in items
    ]
    assert summary == [
        ("Session 1", CONFIRMED, None),
        ("Session 2", WAITLISTED, None),
        ("Session 3", None, "event_full"),
    ]
    assert len(await registrations(make.database, one.id)) == 1
    assert len(await registrations(make.database, three.id)) == 1
