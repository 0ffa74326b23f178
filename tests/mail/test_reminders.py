"""Reminders with a frozen clock: which offsets, for whom, exactly once, re-timed on a
reschedule, none (or skipped) after a cancellation; sent through the real SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt

from events.catalog.models import Event, EventFormat
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.lifecycle import cancel_event
from events.mail.models import OutboxStatus
from events.registration import service as registration_service
from events.registration.reminders import due_offset
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import html_of, mail_worker, text_of
from tests.registration.helpers import latest_token, outbox

DAY, HOUR, MINUTE = dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(minutes=1)


async def reminders(database: Database) -> list[tuple[str, int, OutboxStatus]]:
    return [
        (m.recipient, m.payload["offset"], m.status) for m in await outbox(database, "reminder")
    ]


async def test_each_offset_is_sent_once_at_its_time(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event("SEND webinar", starts_at=start)
    await register(make, event, "sam@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)

    await mailer.drain()
    assert await reminders(database) == []
    clock.set(start - 7 * DAY - MINUTE)
    await mailer.drain()
    assert await reminders(database) == []

    sent: list[int] = []
    for moment, offset in ((7 * DAY, 10080), (DAY, 1440), (HOUR, 60)):
        clock.set(start - moment + MINUTE)
        await mailer.drain()
        await mailer.drain()  # a second pass queues nothing more
        sent.append(offset)
        assert await reminders(database) == [
            ("sam@example.org", o, OutboxStatus.sent) for o in sent
        ]
    reminder_mails = [m for m in smtp.recorder.messages() if "Reminder" in str(m["Subject"])]
    assert len(reminder_mails) == 3
    message = reminder_mails[-1]
    assert str(message["Subject"]).startswith("Reminder: SEND webinar, ")
    for part in (text_of(message), html_of(message)):
        assert "you have a place at" in part
        assert "http://testserver/j/" in part  # online: the joining link
        assert "http://testserver/r/" in part and "http://testserver/c/" in part
    clock.set(start + MINUTE)
    await mailer.drain()
    assert len(await reminders(database)) == 3


async def test_no_reminder_for_an_offset_already_past_at_registration(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 3 * DAY  # registered after the 7-day mark
    event = await make.event(starts_at=start)
    await register(make, event, "sam@example.org")
    late = await make.event(starts_at=clock.now() + 10 * HOUR)  # after the 1-day mark too
    await register(make, late, "alex@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)

    for moment in (
        late.starts_at - DAY + MINUTE,  # before alex registered: nothing
        late.starts_at - HOUR + MINUTE,
        start - 2 * DAY,
        start - DAY + MINUTE,
        start - HOUR + MINUTE,
    ):
        clock.set(moment)
        await mailer.drain()
    assert sorted((r, o) for r, o, _ in await reminders(database)) == [
        ("alex@example.org", 60),
        ("sam@example.org", 60),
        ("sam@example.org", 1440),
    ]


async def test_a_worker_that_was_away_sends_only_the_nearest_reminder(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start, format=EventFormat.in_person, venue_name="Hall")
    await register(make, event, "sam@example.org")

    clock.set(start - 30 * MINUTE)
    await mail_worker(database, clock, settings, smtp.url).drain()

    assert [(o, s) for _, o, s in await reminders(database)] == [(60, OutboxStatus.sent)]
    [message] = [m for m in smtp.recorder.messages() if "Reminder" in str(m["Subject"])]
    assert "/j/" not in text_of(message)  # in person: no joining link


async def test_custom_offsets_per_event(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start, reminder_offsets=(30,))
    await register(make, event, "sam@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)
    for moment in (7 * DAY, DAY, HOUR, 29 * MINUTE):
        clock.set(start - moment)
        await mailer.drain()
    assert [o for _, o, _ in await reminders(database)] == [30]


async def test_reschedule_retimes_and_skips_the_stale_reminder(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start)
    await register(make, event, "sam@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()  # the confirmation
    clock.set(start - 7 * DAY + MINUTE)
    ran = await mailer.schedule()
    assert (ran["reminders"], ran["digests"]) == (1, 0)  # queued, not yet sent

    moved = start + 2 * DAY
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        row.starts_at, row.ends_at = moved, moved + HOUR
    result = await mailer.drain()

    assert (result.sent, result.skipped) == (0, 1)
    [stale] = await outbox(database, "reminder")
    assert stale.status == OutboxStatus.skipped
    assert stale.last_error == "the event was rescheduled"
    assert "manage_token" not in stale.payload
    clock.set(moved - 7 * DAY + MINUTE)
    await mailer.drain()
    rows = await outbox(database, "reminder")
    assert [(r.payload["offset"], r.status) for r in rows] == [
        (10080, OutboxStatus.skipped),
        (10080, OutboxStatus.sent),
    ]
    assert rows[1].payload["starts_at"] == moved.isoformat()
    assert len([m for m in smtp.recorder.messages() if "Reminder" in str(m["Subject"])]) == 1


async def test_cancelled_registration_gets_none_and_a_queued_one_is_skipped(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start)
    await register(make, event, "sam@example.org")
    await register(make, event, "alex@example.org")
    sam_token = await latest_token(database, "sam@example.org")
    alex_token = await latest_token(database, "alex@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    async with unit_of_work(database.writer) as session:
        await registration_service.cancel(session, clock, token=sam_token, signer=TEST_SIGNER)

    clock.set(start - 7 * DAY + MINUTE)
    await mailer.schedule()
    assert [r for r, _, _ in await reminders(database)] == ["alex@example.org"]
    async with unit_of_work(database.writer) as session:
        await registration_service.cancel(session, clock, token=alex_token, signer=TEST_SIGNER)
    await mailer.drain()

    [(recipient, _, status)] = await reminders(database)
    assert (recipient, status) == ("alex@example.org", OutboxStatus.skipped)
    assert (await outbox(database, "reminder"))[0].last_error == "the registration was cancelled"
    assert not [m for m in smtp.recorder.messages() if "Reminder" in str(m["Subject"])]


async def test_cancelled_event_gets_none_and_a_queued_one_is_skipped(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start)
    other = await make.event(starts_at=start)
    await register(make, event, "sam@example.org")
    await register(make, other, "alex@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, other.id)
        assert row is not None
        await cancel_event(session, clock, row)

    clock.set(start - 7 * DAY + MINUTE)
    await mailer.schedule()
    assert [r for r, _, _ in await reminders(database)] == ["sam@example.org"]
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        await cancel_event(session, clock, row)
    await mailer.drain()

    [(_, _, status)] = await reminders(database)
    assert status == OutboxStatus.skipped
    assert (await outbox(database, "reminder"))[0].last_error == "the event is cancelled"


async def test_concurrent_schedulers_queue_each_reminder_once(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    start = clock.now() + 10 * DAY
    event = await make.event(starts_at=start)
    for n in range(20):
        await register(make, event, f"person{n}@example.org")
    workers = [mail_worker(database, clock, settings, smtp.url) for _ in range(4)]
    clock.set(start - DAY + MINUTE)

    results = await asyncio.gather(*(w.schedule() for w in workers))

    assert sum(r["reminders"] for r in results) >= 20
    rows = await reminders(database)
    assert sorted(r for r, _, _ in rows) == sorted(f"person{n}@example.org" for n in range(20))
    await asyncio.gather(*(w.drain() for w in workers))
    reminder_mails = [m for m in smtp.recorder.messages() if "Reminder" in str(m["Subject"])]
    assert len(reminder_mails) == 20


def test_due_offset_rules() -> None:
    start = dt.datetime(2026, 3, 30, 17, 0, tzinfo=dt.UTC)
    offsets = [10080, 1440, 60]
    assert due_offset(offsets, start, start - 8 * DAY) is None
    assert due_offset(offsets, start, start - 7 * DAY) == 10080
    assert due_offset(offsets, start, start - DAY) == 1440
    assert due_offset(offsets, start, start - MINUTE) == 60
    assert due_offset(offsets, start, start) is None
    assert due_offset([], start, start - MINUTE) is None
