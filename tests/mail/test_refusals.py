"""One message never holds up the others (issue 13, item 11): a relay that refuses one
recipient at RCPT TO or at DATA, a row that cannot be composed, an address the relay cannot
carry, or a bug while sending one message fails (or backs off) that message alone, and the
rest of the batch goes out in the same drain."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.mail.transport import SmtpTransport
from events.organiser.models import OrganiserRole
from events.registration.messages import Confirmed
from tests.factories import Factory
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import OPTIONS, mail_worker
from tests.organiser.helpers import give_event, new_organiser, sign_in


async def queue(database: Database, clock: FrozenClock, event_id: int, recipient: str) -> int:
    """A confirmation written straight to the outbox (no form would take some of these)."""
    async with unit_of_work(database.writer) as session:
        message = await enqueue(
            session,
            clock,
            message=Confirmed(event_id=event_id, name="Sam", manage_token=f"m-{recipient}"),
            recipient=recipient,
            dedupe_key=f"refusals:{recipient}",
            event_id=event_id,
        )
        return message.id


async def rows(database: Database) -> dict[str, OutboxMessage]:
    async with database.reader() as session:
        found = (await session.scalars(select(OutboxMessage))).all()
    return {r.dedupe_key.removeprefix("refusals:"): r for r in found}


async def test_a_refused_recipient_fails_alone_and_the_batch_goes_out(
    app: Starlette,
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
) -> None:
    smtp.recorder.refuse_rcpt["refused@example.org"] = "550 5.1.1 No such mailbox here"
    smtp.recorder.refuse_data["spam@example.org"] = "554 5.7.1 Message refused as spam"
    smtp.recorder.refuse_rcpt["busy@example.org"] = "452 4.2.2 Mailbox full, try later"
    event = await make.event("Refusals")
    for address in (
        "first@example.org",
        "refused@example.org",
        "spam@example.org",
        "no-at-sign.example.org",  # cannot be composed
        "busy@example.org",
        "last@example.org",
    ):
        await queue(database, clock, event.id, address)

    result = await mail_worker(database, clock, settings, smtp.url).drain()

    assert (result.claimed, result.sent, result.failed, result.retried) == (6, 2, 3, 1)
    assert [r.recipients for r in smtp.recorder.received] == [
        ["first@example.org"],
        ["last@example.org"],
    ]
    found = await rows(database)
    refused, spam, bad = (
        found["refused@example.org"],
        found["spam@example.org"],
        found["no-at-sign.example.org"],
    )
    assert (refused.status, refused.attempts) == (OutboxStatus.failed, 1)
    assert refused.last_error == "550 5.1.1 No such mailbox here"
    assert (spam.status, spam.attempts) == (OutboxStatus.failed, 1)
    assert spam.last_error == "554 5.7.1 Message refused as spam"
    assert bad.status == OutboxStatus.failed
    assert "unusable recipient address" in bad.last_error
    busy = found["busy@example.org"]
    assert (busy.status, busy.attempts) == (OutboxStatus.pending, 1)
    assert busy.last_error.startswith("452 4.2.2")
    assert busy.next_attempt_at == clock.now() + OPTIONS.retry_base
    assert all(not r.claimed_by for r in found.values())

    # No retry for the refused ones: only the 4xx comes back, and is sent once accepted.
    del smtp.recorder.refuse_rcpt["busy@example.org"]
    clock.advance(OPTIONS.retry_max)
    again = await mail_worker(database, clock, settings, smtp.url).drain()
    assert (again.claimed, again.sent) == (1, 1)
    assert smtp.recorder.received[-1].recipients == ["busy@example.org"]

    # Organisers see each refusal, with the relay's answer, on the event's outgoing mail.
    organiser = await new_organiser(database, clock, role=OrganiserRole.organiser)
    await give_event(database, event, organiser)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as console:
        await sign_in(console, database, clock, organiser)
        page = await console.get(f"/organiser/events/{event.slug}/mail")
    assert page.status_code == 200
    assert "550 5.1.1 No such mailbox here" in page.text
    assert "554 5.7.1 Message refused as spam" in page.text


async def test_an_address_the_relay_cannot_carry_fails_alone(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp_ascii_only: SmtpServer,
) -> None:
    """A UTF-8 address needs SMTPUTF8; a relay without it refuses that one message. Before,
    the client's refusal read as a broken connection and put the whole batch back, again
    and again, so no one's confirmation left while that row was first in line."""
    event = await make.event()
    for address in ("siân@example.org", "after@example.org"):
        await queue(database, clock, event.id, address)

    result = await mail_worker(database, clock, settings, smtp_ascii_only.url).drain()

    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    assert [r.recipients for r in smtp_ascii_only.recorder.received] == [["after@example.org"]]
    utf8 = (await rows(database))["siân@example.org"]
    assert utf8.status == OutboxStatus.failed
    assert "SMTPUTF8" in utf8.last_error


async def test_a_bug_sending_one_message_backs_that_one_off_and_sends_the_rest(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_send = SmtpTransport.send

    async def send(self: SmtpTransport, message: Any, *, sender: str, recipient: str) -> None:
        if recipient == "odd@example.org":
            raise RuntimeError("a bug in the client")
        await real_send(self, message, sender=sender, recipient=recipient)

    monkeypatch.setattr(SmtpTransport, "send", send)
    event = await make.event()
    for address in ("odd@example.org", "next@example.org"):
        await queue(database, clock, event.id, address)

    result = await mail_worker(database, clock, settings, smtp.url).drain()

    assert (result.sent, result.retried) == (1, 1)
    assert [r.recipients for r in smtp.recorder.received] == [["next@example.org"]]
    odd = (await rows(database))["odd@example.org"]
    assert (odd.status, odd.attempts, odd.claimed_by) == (OutboxStatus.pending, 1, "")
    assert "a bug in the client" in odd.last_error
    assert odd.next_attempt_at == clock.now() + dt.timedelta(minutes=1)
