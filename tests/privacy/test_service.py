"""Subject access, erasure and retention, with a controllable clock, on both backends."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
from sqlalchemy import select

from events.alerts.models import AlertFrequency, SubscriptionStatus, TopicSubscription
from events.audit.models import AuditEntry
from events.audit.service import SYSTEM as SYSTEM_
from events.db import unit_of_work
from events.kit.signing import Purpose
from events.mail.models import OutboxMessage, OutboxStatus
from events.privacy import service
from events.privacy.models import PrivacyRequest
from events.registration import service as registration_service
from events.registration.errors import RegistrationNotFound
from events.registration.models import RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import latest_token, outbox, places_left, registrations

CONSENTS = ["privacy", "access_data"]


async def _subscribe(make: Factory, email: str) -> None:
    topic = await make.topic()
    now = make.clock.now()
    async with unit_of_work(make.database.writer) as session:
        session.add(
            TopicSubscription(
                topic_id=topic.id,
                email=email,
                frequency=AlertFrequency.immediate,
                status=SubscriptionStatus.active,
                created_at=now,
                updated_at=now,
            )
        )


async def _request(make: Factory, email: str) -> str:
    async with unit_of_work(make.database.writer) as session:
        await service.request_subject_access(session, make.clock, email=email, signer=TEST_SIGNER)
    [message] = await outbox(make.database, "subject_access")
    token = message.payload["erase_token"]
    assert isinstance(token, str)
    return token


async def test_the_report_holds_everything_for_that_email_and_nothing_else(make: Factory) -> None:
    first, second = await make.event("First"), await make.event("Second")
    await register(make, first, "jo@example.org", access_requirements=["bsl"], consents=CONSENTS)
    await register(make, second, "jo@example.org")
    await register(make, first, "someone.else@example.org")
    await _subscribe(make, "jo@example.org")
    async with make.database.reader() as session:
        report = await service.subject_report(session, email="jo@example.org")
    data = report.as_json()
    # as_json() is typed for json.dumps (dict[str, object]); these are its shapes.
    registrations = cast(list[dict[str, object]], data["registrations"])
    subscriptions = cast(list[object], data["topic_subscriptions"])
    assert [r["event"] for r in registrations] == ["First", "Second"]
    assert registrations[0]["access_requirements"] == ["bsl"]
    assert len(subscriptions) == 1
    assert "someone.else@example.org" not in str(data)


async def test_a_request_queues_the_report_to_that_address_with_a_hashed_erase_link(
    make: Factory,
) -> None:
    token = await _request(make, "jo@example.org")
    [message] = await outbox(make.database, "subject_access")
    assert message.recipient == "jo@example.org"
    async with make.database.reader() as session:
        [row] = (await session.execute(select(PrivacyRequest))).scalars().all()
    assert (
        row.token_hash == TEST_SIGNER.hash_token(Purpose.ERASE, token)
        and token not in row.token_hash
    )


async def test_erasure_frees_the_place_promotes_and_leaves_only_counts(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event, "jo@example.org", access_requirements=["bsl"], consents=CONSENTS)
    await register(make, event, "next@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    await _subscribe(make, "jo@example.org")
    token = await _request(make, "jo@example.org")

    async with unit_of_work(make.database.writer) as session:
        erased = await service.erase_by_token(session, make.clock, token=token, signer=TEST_SIGNER)
    assert (erased.registrations, erased.places_freed, erased.subscriptions) == (1, 1, 1)

    rows = await registrations(make.database, event.id)
    mine = next(r for r in rows if r.erased_at is not None)
    assert mine.status == RegistrationStatus.cancelled
    assert (mine.name, mine.access_requirements, mine.access_details, mine.consents) == (
        "",
        [],
        "",
        [],
    )
    assert "jo@example.org" not in mine.email
    promoted = next(r for r in rows if r.email == "next@example.org")
    assert promoted.status == RegistrationStatus.confirmed
    assert await places_left(make.database, event.id) == 0

    messages = await outbox(make.database)
    cancellation = [m for m in messages if m.kind == "cancelled"]
    assert [m.recipient for m in cancellation] == ["jo@example.org"], "the calendar entry goes"
    assert [m.recipient for m in messages if m.kind == "promoted"] == ["next@example.org"]
    others = [
        m
        for m in messages
        if m.kind not in ("cancelled", "promoted") and m.recipient != "next@example.org"
    ]
    assert all(m.recipient == service.REMOVED and m.payload == {} for m in others)
    assert all(m.status != OutboxStatus.pending for m in others)

    async with make.database.reader() as session:
        subscriptions = (await session.execute(select(TopicSubscription))).scalars().all()
        assert [(s.status, "jo@" in s.email) for s in subscriptions] == [
            (SubscriptionStatus.unsubscribed, False)
        ]
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.registration_id == mine.id)))
            .scalars()
            .all()
        )
    assert any(e.action == "registration.erased" for e in entries)
    assert "jo@example.org" not in str([(e.before, e.after, e.actor_label) for e in entries])

    with pytest.raises(RegistrationNotFound):  # the old management link is dead
        async with unit_of_work(make.database.writer) as session:
            await registration_service.registration_by_token(
                session, token=manage, signer=TEST_SIGNER
            )
    with pytest.raises(service.ErasureLinkNotFound):  # and the erase link worked once
        async with unit_of_work(make.database.writer) as session:
            await service.erase_by_token(session, make.clock, token=token, signer=TEST_SIGNER)


async def test_an_erase_link_expires(make: Factory) -> None:
    token = await _request(make, "jo@example.org")
    make.clock.advance(service.REQUEST_LIFETIME + dt.timedelta(seconds=1))
    with pytest.raises(service.ErasureLinkNotFound):
        async with unit_of_work(make.database.writer) as session:
            await service.erase_by_token(session, make.clock, token=token, signer=TEST_SIGNER)


async def test_retention_purges_access_needs_then_whole_registrations(make: Factory) -> None:
    old = await make.event("Old", starts_at=make.clock.now() + dt.timedelta(days=1))
    recent = await make.event("Recent", starts_at=make.clock.now() + dt.timedelta(days=25))
    for event in (old, recent):
        await register(
            make,
            event,
            "jo@example.org",
            access_requirements=["bsl"],
            consents=CONSENTS,
            access_details="Seat near the front",
        )

    async def purge() -> service.Purge:
        async with unit_of_work(make.database.writer) as session:
            return await service.purge_expired(
                session, make.clock, access_days=30, registration_days=730
            )

    make.clock.advance(dt.timedelta(days=33))  # old ended 32 days ago, recent 8 days ago
    first = await purge()
    assert first.access_purged == 1
    [purged] = await registrations(make.database, old.id)
    [kept] = await registrations(make.database, recent.id)
    assert (purged.access_requirements, purged.access_details) == ([], "")
    assert purged.access_purged_at is not None and purged.name == "Sam Teacher"
    assert kept.access_requirements == ["bsl"] and kept.access_purged_at is None
    assert (await purge()).access_purged == 0, "each purge runs once"

    async with make.database.reader() as session:
        [entry] = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "access_requirements.purged")
                )
            )
            .scalars()
            .all()
        )
    assert (
        entry.event_id == old.id
        and "bsl" not in str(entry.after)
        and "front" not in str(entry.after)
    )

    make.clock.advance(dt.timedelta(days=730))
    later = await purge()
    assert later.registrations_erased == 2
    rows = [
        *await registrations(make.database, old.id),
        *await registrations(make.database, recent.id),
    ]
    assert all(r.erased_at is not None and r.name == "" for r in rows)
    assert [r.status for r in rows] == [RegistrationStatus.confirmed] * 2, "the counts remain"
    async with make.database.reader() as session:
        recipients = (await session.execute(select(OutboxMessage.recipient))).scalars().all()
    assert set(recipients) == {service.REMOVED}


async def test_a_new_request_after_an_erasure_is_sent_too(make: Factory) -> None:
    """SQLite hands the id of a deleted request out again: the new request must not be
    taken for the old one's email."""
    token = await _request(make, "jo@example.org")
    async with unit_of_work(make.database.writer) as session:
        await service.erase_by_token(session, make.clock, token=token, signer=TEST_SIGNER)
    async with unit_of_work(make.database.writer) as session:
        await service.request_subject_access(
            session, make.clock, email="jo@example.org", signer=TEST_SIGNER
        )
    first, second = await outbox(make.database, "subject_access")
    assert first.recipient == service.REMOVED, "the first, unsent, went with the erasure"
    assert second.recipient == "jo@example.org" and "erase_token" in second.payload


async def _cancelled_entries(make: Factory, registration_id: int) -> list[AuditEntry]:
    async with make.database.reader() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.registration_id == registration_id,
                        AuditEntry.action == "registration.cancelled",
                    )
                )
            ).all()
        )


async def test_member_organiser_and_erasure_cancel_by_one_rule_each_with_its_audit_row(
    make: Factory,
) -> None:
    from events.audit.service import SYSTEM

    event = await make.event(capacity=3)
    for email in ("member@example.org", "organiser@example.org", "erased@example.org"):
        await register(make, event, email)
    by_email = {r.email: r.id for r in await registrations(make.database, event.id)}

    member_token = await latest_token(make.database, "member@example.org")
    async with unit_of_work(make.database.writer) as session:
        await registration_service.cancel(
            session, make.clock, token=member_token, signer=TEST_SIGNER
        )
        await registration_service.cancel_by_organiser(
            session,
            make.clock,
            event=event,
            registration_id=by_email["organiser@example.org"],
            actor=SYSTEM,
            signer=TEST_SIGNER,
        )
        await service.erase_email(
            session, make.clock, email="erased@example.org", signer=TEST_SIGNER, actor=SYSTEM
        )

    for email, registration_id in by_email.items():
        [entry] = await _cancelled_entries(make, registration_id)
        assert entry.event_id == event.id, email
    assert await places_left(make.database, event.id) == 3, "every place went back"
    cancellations = await outbox(make.database, "cancelled")
    assert len(cancellations) == 3
    [erased_notice] = [m for m in cancellations if m.payload.get("erased")]
    assert erased_notice.event_id is None, "never listed on the organiser's mail page"


async def test_erasing_a_waiting_place_cancels_it_without_an_email(make: Factory) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event, "first@example.org")
    await register(make, event, "waiting@example.org")
    [waiting] = [
        r for r in await registrations(make.database, event.id) if r.email == "waiting@example.org"
    ]
    async with unit_of_work(make.database.writer) as session:
        erased = await service.erase_email(
            session, make.clock, email="waiting@example.org", signer=TEST_SIGNER, actor=SYSTEM_
        )
    assert (erased.registrations, erased.places_freed) == (1, 0)
    assert await outbox(make.database, "cancelled") == []
    [entry] = await _cancelled_entries(make, waiting.id)
    assert entry.after is not None
