"""Invites calendar apps will not ignore (issue 13, items 1 and 2), through real flows: the
services queue, the worker sends over real SMTP (aiosmtpd), and every invite received is
read back with two parsers (icalendar and vobject).

1. Every invite to one person about one event carries a SEQUENCE above every one they were
   sent before: cancel, then register again (or be promoted, or be given a place by an
   organiser), and the new REQUEST outranks the CANCEL, under the same UID.
2. A "you have a place" email queued before the event or the place was cancelled is skipped
   at send time, with the reason on its row; it never goes out after the cancellation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from itertools import pairwise
from typing import Any

import icalendar
import vobject  # type: ignore[import-untyped]

from events.audit.service import SYSTEM
from events.catalog.models import Event
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.lifecycle import cancel_event
from events.mail.models import OutboxStatus
from events.mail.worker import Worker
from events.registration import notices
from events.registration import service as registration_service
from tests.factories import TEST_SIGNER, Factory, register, registration_input
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, mail_worker, to
from tests.registration.helpers import latest_token, outbox, registrations


@dataclass(frozen=True)
class Invite:
    subject: str
    method: str
    uid: str
    sequence: int


def _invite(message: EmailMessage) -> Invite | None:
    """The message's invite, read by both parsers (which must agree), or None."""
    part = calendar_part(message)
    if part is None:
        return None
    raw = part.get_content()
    text = raw.decode() if isinstance(raw, bytes) else raw
    calendar = icalendar.Calendar.from_ical(text)
    [first] = calendar.walk("VEVENT")
    by_icalendar = (str(calendar["METHOD"]), str(first["UID"]), int(str(first["SEQUENCE"])))
    parsed: Any = vobject.readOne(text)
    [second] = parsed.vevent_list
    by_vobject = (parsed.method.value, second.uid.value, int(second.sequence.value))
    assert by_icalendar == by_vobject
    assert part.get_param("method") == by_icalendar[0]
    return Invite(str(message["Subject"]), *by_icalendar)


def invites_to(smtp: SmtpServer, address: str) -> list[Invite]:
    """Every invite ``address`` received, in the order the server received them."""
    found = [_invite(m) for m in to(smtp.recorder.messages(), address)]
    return [invite for invite in found if invite is not None]


def assert_rising(invites: list[Invite], event: Event) -> None:
    """One calendar entry (the event's UID), each SEQUENCE above every one before it."""
    assert {i.uid for i in invites} == {event.uid}
    sequences = [i.sequence for i in invites]
    assert all(a < b for a, b in pairwise(sequences)), sequences


async def _book(make: Factory, event: Event, email: str) -> str:
    """Register; the management link from the email queued (tokens leave rows once sent)."""
    outcome = await register(make, event, email)
    assert outcome.registration is not None
    return await latest_token(make.database, outcome.registration.email)


async def _cancel(database: Database, clock: FrozenClock, token: str) -> None:
    async with unit_of_work(database.writer) as session:
        await registration_service.cancel(session, clock, token=token, signer=TEST_SIGNER)


async def _drain(mailer: Worker, clock: FrozenClock) -> None:
    await mailer.drain()
    clock.advance(dt.timedelta(minutes=5))


async def test_registering_again_after_cancelling_outranks_the_cancel(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event("Workload clinic")
    mailer = mail_worker(database, clock, settings, smtp.url)
    for _ in range(2):
        token = await _book(make, event, "sam@example.org")
        await _drain(mailer, clock)
        await _cancel(database, clock, token)
        await _drain(mailer, clock)
    await register(make, event, " SAM@example.org ")  # the same person, written differently
    await _drain(mailer, clock)

    invites = invites_to(smtp, "sam@example.org")
    assert [i.method for i in invites] == ["REQUEST", "CANCEL"] * 2 + ["REQUEST"]
    assert [i.sequence for i in invites] == [0, 1, 2, 3, 4]
    assert_rising(invites, event)
    # Each registration is a row of its own; the high-water mark spans them.
    rows = await registrations(database, event.id)
    assert [r.invite_sequence for r in rows] == [1, 3, 4]


async def test_an_update_after_registering_again_goes_above_the_person_and_the_event(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    mailer = mail_worker(database, clock, settings, smtp.url)
    token = await _book(make, event, "sam@example.org")
    await register(make, event, "alex@example.org")
    await _drain(mailer, clock)
    await _cancel(database, clock, token)
    await register(make, event, "sam@example.org")
    await _drain(mailer, clock)

    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        row.starts_at += dt.timedelta(hours=1)
        row.ends_at += dt.timedelta(hours=1)
        row.ical_sequence += 1
        await notices.notify_event_updated(
            session, clock, event=row, changed=["starts_at"], signer=TEST_SIGNER
        )
    await _drain(mailer, clock)

    sam = invites_to(smtp, "sam@example.org")
    assert [(i.method, i.sequence) for i in sam] == [
        ("REQUEST", 0),
        ("CANCEL", 1),
        ("REQUEST", 2),
        ("REQUEST", 3),  # the update: above Sam's 2, though the event's is 1
    ]
    assert_rising(sam, event)
    # Someone who never cancelled keeps the event's own sequence.
    alex = invites_to(smtp, "alex@example.org")
    assert [(i.method, i.sequence) for i in alex] == [("REQUEST", 0), ("REQUEST", 1)]


async def test_promotion_after_cancelling_outranks_the_cancel(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    mailer = mail_worker(database, clock, settings, smtp.url)
    token = await _book(make, event, "sam@example.org")
    await _drain(mailer, clock)
    await _cancel(database, clock, token)
    alex = await _book(make, event, "alex@example.org")  # takes the freed place
    await register(make, event, "sam@example.org")  # waiting list: no invite
    await _drain(mailer, clock)
    await _cancel(database, clock, alex)  # Sam is promoted
    await _drain(mailer, clock)

    sam = invites_to(smtp, "sam@example.org")
    assert [(i.subject.split(":")[0], i.method) for i in sam] == [
        ("Your place is confirmed", "REQUEST"),
        ("Your place has been cancelled", "CANCEL"),
        ("A place has come up for you", "REQUEST"),
    ]
    assert_rising(sam, event)


async def test_an_organisers_place_after_cancelling_outranks_the_cancel(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(capacity=5, waiting_list_enabled=True)
    mailer = mail_worker(database, clock, settings, smtp.url)
    token = await _book(make, event, "sam@example.org")
    await _drain(mailer, clock)
    await _cancel(database, clock, token)
    await _drain(mailer, clock)
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        waiting, _ = await registration_service.add_by_hand(
            session,
            clock,
            event=row,
            data=registration_input("sam@example.org"),
            actor=SYSTEM,
            signer=TEST_SIGNER,
            status="waitlisted",
        )
    await _drain(mailer, clock)
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        await registration_service.confirm_from_waiting_list(
            session, clock, event=row, registration_id=waiting.id, actor=SYSTEM, signer=TEST_SIGNER
        )
    await _drain(mailer, clock)

    sam = invites_to(smtp, "sam@example.org")
    assert [i.method for i in sam] == ["REQUEST", "CANCEL", "REQUEST"]
    assert_rising(sam, event)
    assert [m["Subject"] for m in to(smtp.recorder.messages(), "sam@example.org")][-2:] == [
        f"You are on the waiting list: {event.title}",
        f"A place has come up for you: {event.title}",
    ]


async def _skipped(database: Database, kind: str) -> list[str]:
    return [r.last_error for r in await outbox(database, kind) if r.status == OutboxStatus.skipped]


async def test_a_confirmation_queued_before_the_event_was_cancelled_is_not_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await register(make, event, "sam@example.org")
    await register(make, event, "alex@example.org")  # waiting
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        await cancel_event(session, clock, row)

    await mail_worker(database, clock, settings, smtp.url).drain()

    [sam] = to(smtp.recorder.messages(), "sam@example.org")
    assert sam["Subject"] == f"Cancelled: {event.title}"
    [invite] = invites_to(smtp, "sam@example.org")
    assert invite.method == "CANCEL"
    [alex] = to(smtp.recorder.messages(), "alex@example.org")
    assert alex["Subject"] == f"Cancelled: {event.title}"
    assert await _skipped(database, "confirmed") == ["superseded: the event was cancelled"]
    assert await _skipped(database, "waitlisted") == ["superseded: the event was cancelled"]


async def test_a_confirmation_queued_before_the_person_cancelled_is_not_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    """Register, cancel and register again before the worker runs: the first confirmation is
    stale; the CANCEL and the new REQUEST go, in that order, with rising sequences."""
    event = await make.event()
    await _cancel(database, clock, await _book(make, event, "sam@example.org"))
    await register(make, event, "sam@example.org")

    await mail_worker(database, clock, settings, smtp.url).drain()

    subjects = [m["Subject"] for m in to(smtp.recorder.messages(), "sam@example.org")]
    assert subjects == [
        f"Your place has been cancelled: {event.title}",
        f"Your place is confirmed: {event.title}",
    ]
    sam = invites_to(smtp, "sam@example.org")
    assert [(i.method, i.sequence) for i in sam] == [("CANCEL", 1), ("REQUEST", 2)]
    assert await _skipped(database, "confirmed") == ["superseded: the registration was cancelled"]


async def test_a_promotion_queued_before_the_person_cancelled_is_not_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    mailer = mail_worker(database, clock, settings, smtp.url)
    sam = await _book(make, event, "sam@example.org")
    alex = await _book(make, event, "alex@example.org")
    await _drain(mailer, clock)
    await _cancel(database, clock, sam)  # Alex promoted ...
    await _cancel(database, clock, alex)  # ... and cancels before it is sent
    await _drain(mailer, clock)

    received = to(smtp.recorder.messages(), "alex@example.org")
    assert [m["Subject"].split(":")[0] for m in received] == [
        "You are on the waiting list",
        "Your place has been cancelled",
    ]
    assert [i.method for i in invites_to(smtp, "alex@example.org")] == ["CANCEL"]
    assert await _skipped(database, "promoted") == ["superseded: the registration was cancelled"]


async def test_a_confirmation_for_someone_moved_to_the_waiting_list_is_not_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(capacity=5, waiting_list_enabled=True)
    outcome = await register(make, event, "sam@example.org")
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        await registration_service.move_to_waiting_list(
            session,
            clock,
            event=row,
            registration_id=outcome.registration.id,
            actor=SYSTEM,
            signer=TEST_SIGNER,
        )

    await mail_worker(database, clock, settings, smtp.url).drain()

    [message] = to(smtp.recorder.messages(), "sam@example.org")
    assert message["Subject"] == f"You are on the waiting list: {event.title}"
    assert calendar_part(message) is None
    assert await _skipped(database, "confirmed") == [
        "superseded: the registration is waitlisted now"
    ]
