"""The typed outbox contract: every kind has a model and a handler, round-trips through its
model, is refused at enqueue when it does not fit, and fails for good (alone) when a queued
payload no longer fits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.kinds import MessageKind
from events.mail.messages import InvalidMessage, Message
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.registration.messages import Confirmed, Reminder
from events.wiring import message_registry
from tests.factories import Factory
from tests.mail.conftest import SmtpServer
from tests.mail.test_worker import queue_raw, row, worker

START = dt.datetime(2026, 3, 30, 17, 0, tzinfo=dt.UTC)
PLACE = {"registration_id": 3, "event_id": 7, "name": "Sam", "manage_token": "m"}
EXAMPLES: dict[MessageKind, dict[str, Any]] = {
    MessageKind.confirmed: {**PLACE, "status": "confirmed", "resent": True},
    MessageKind.waitlisted: {**PLACE, "status": "waitlisted", "position": 2},
    MessageKind.promoted: {**PLACE, "status": "confirmed", "join_token": "j"},
    MessageKind.cancelled: {**PLACE, "status": "cancelled", "erased": True},
    MessageKind.reminder: {**PLACE, "offset": 60, "starts_at": START.isoformat()},
    MessageKind.event_updated: {**PLACE, "changed": ["starts_at"], "sequence": 2},
    MessageKind.event_cancelled: {**PLACE, "sequence": 3},
    MessageKind.broadcast: {**PLACE, "subject": "Slides", "body": "See you"},
    MessageKind.waitlist_moved: {**PLACE, "status": "waitlisted", "changed": ["venue_name"]},
    MessageKind.subscription_confirm: {"subscription_id": 5, "topic_name": "SEND"},
    MessageKind.alert: {"subscription_id": 5, "event_id": 7, "frequency": "immediate"},
    MessageKind.alert_digest: {"subscription_id": 5, "event_ids": [7, 8]},
    MessageKind.subject_access: {"request_id": 9, "erase_token": "e"},
}


def test_every_kind_has_a_model_and_a_handler() -> None:
    registry = message_registry()
    assert registry.kinds == set(MessageKind)
    assert set(EXAMPLES) == set(MessageKind)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_each_kind_round_trips_through_its_model(kind: MessageKind) -> None:
    registry = message_registry()
    message = registry.parse(kind, EXAMPLES[kind])
    assert type(message) is registry.model(kind)
    assert message.kind == kind
    payload = message.payload()
    assert "kind" not in payload, "the row has its own kind column"
    assert registry.parse(kind, payload) == message
    assert registry.model(kind)(**EXAMPLES[kind]) == message


def test_rows_queued_before_the_models_read_back() -> None:
    """Payloads as the dict-building code wrote them (today's rows in outbox tables)."""
    registry = message_registry()
    old = {
        "registration_id": 3,
        "event_id": 7,
        "name": "Sam",
        "status": "confirmed",
        "offset": 60,
        "starts_at": "2026-03-30T17:00:00+00:00",
        "manage_token": "m",
        "join_token": None,
        "calendar_token": "c",
    }
    reminder = registry.parse("reminder", old)
    assert isinstance(reminder, Reminder) and reminder.starts_at == START
    assert reminder.payload()["starts_at"] == "2026-03-30T17:00:00+00:00"


def test_a_model_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValidationError):
        Confirmed(event_id="seven")
    with pytest.raises(ValidationError):
        Confirmed(event_id=7, surprise=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Confirmed(event_id=7, kind=MessageKind.alert)


async def test_enqueue_refuses_a_message_that_does_not_fit(
    database: Database, clock: FrozenClock
) -> None:
    seven: Any = "seven"  # the wrong type on purpose
    unchecked: Message = Confirmed.model_construct(event_id=seven)  # skips validation
    with pytest.raises(InvalidMessage, match="event_id"):
        async with unit_of_work(database.writer) as session:
            await enqueue(
                session, clock, message=unchecked, recipient="sam@example.org", dedupe_key="bad"
            )
    async with database.reader() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


def test_parse_names_the_kind_and_field_that_do_not_fit() -> None:
    registry = message_registry()
    with pytest.raises(InvalidMessage, match=r"'confirmed'.*event_id"):
        registry.parse("confirmed", {"event_id": "seven"})
    with pytest.raises(InvalidMessage, match="'nonsense'"):
        registry.parse("nonsense", {})


async def _raw_row(database: Database, clock: FrozenClock, kind: str, payload: Any) -> int:
    """A row written around ``enqueue``, as an old release or a hand edit might leave it."""
    async with unit_of_work(database.writer) as session:
        message = OutboxMessage(
            kind=kind,
            recipient="sam@example.org",
            payload=payload,
            status=OutboxStatus.pending,
            attempts=0,
            next_attempt_at=clock.now(),
            dedupe_key=f"raw:{kind}:{payload!r}",
            last_error="",
            created_at=clock.now(),
        )
        session.add(message)
        await session.flush()
        return message.id


async def test_a_queued_payload_that_no_longer_fits_fails_alone_and_for_good(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    bad = await _raw_row(database, clock, "confirmed", {"event_id": "seven", "manage_token": "s"})
    unknown = await _raw_row(database, clock, "nonsense", {"event_id": event.id})
    not_an_object = await _raw_row(database, clock, "alert", ["not", "an", "object"])
    good = await queue_raw(database, clock, event.id, "ok@example.org")

    result = await worker(database, clock, settings, smtp.url).drain()

    assert (result.claimed, result.sent, result.failed, result.retried) == (4, 1, 3, 0)
    [received] = smtp.recorder.received
    assert received.recipients == ["ok@example.org"]
    failed = await row(database, bad)
    assert failed.status == OutboxStatus.failed and failed.attempts == 1
    assert "does not fit" in failed.last_error and "event_id" in failed.last_error
    assert "manage_token" not in failed.payload, "no secret kept on a failed row"
    assert (await row(database, unknown)).status == OutboxStatus.failed
    assert "'nonsense'" in (await row(database, unknown)).last_error
    assert (await row(database, good)).status == OutboxStatus.sent
    odd = await row(database, not_an_object)
    assert (odd.status, odd.payload) == (OutboxStatus.failed, {})
