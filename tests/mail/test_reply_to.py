"""A real sender (issue 13, item 14): mail about an event answers to its organiser
(``Reply-To``), an organiser's own message to that organiser, and says so instead of
"Please do not reply". Alerts carry none. Read back from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.headerregistry import Address

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.registration.notices import broadcast
from tests.alerts.test_alerts import active, publish
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import html_of, mail_worker, text_of, to

NOT_REPLY = "Please do not reply"


def reply_to(raw: bytes) -> Address:
    """The one Reply-To address, as a mail client parses the bytes that arrived."""
    message = message_from_bytes(raw, policy=policy.default)
    header = message["Reply-To"]
    assert header is not None, "no Reply-To"
    [address] = header.addresses
    assert isinstance(address, Address)
    return address


async def test_event_mail_answers_to_its_organiser_with_the_name_as_written(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    quoted = await make.event(
        "Quoted", organiser_name='O\'Brien, "Jo" (SEND)', organiser_email="jo@union.example.org"
    )
    accented = await make.event(
        "Accented", organiser_name="Siân Lewis, Cymru", organiser_email="sian@union.example.org"
    )
    await register(make, quoted, "a@example.org")
    await register(make, accented, "b@example.org")

    await mail_worker(database, clock, settings, smtp.url).drain()

    first, second = smtp.recorder.received
    quoted_name = 'O\'Brien, "Jo" (SEND)'
    assert reply_to(first.data) == Address(quoted_name, addr_spec="jo@union.example.org")
    assert reply_to(second.data) == Address("Siân Lewis, Cymru", addr_spec="sian@union.example.org")
    # On the wire: one header line, the name quoted (or encoded), the comma inside it.
    wire = first.data.decode("ascii")
    assert '\r\nReply-To: "O\'Brien, \\"Jo\\" (SEND)" <jo@union.example.org>\r\n' in wire
    assert "=?utf-8?" in second.data.decode("ascii").split("Reply-To:")[1].split("\r\n")[0]
    assert second.message["From"].addresses[0].addr_spec == "events@mail.example.org"
    for received in (first, second):
        for part in (text_of(received.message), html_of(received.message)):
            assert NOT_REPLY not in part
            assert "your reply goes to" in part
    assert 'your reply goes to O\'Brien, "Jo" (SEND), the organiser' in text_of(first.message)


async def test_an_organisers_message_answers_to_that_organiser(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(organiser_name="Events team", organiser_email="events@example.org")
    await register(make, event, "sam@example.org")
    async with unit_of_work(database.writer) as session:
        await broadcast(
            session,
            clock,
            event=event,
            subject="Room change",
            body="We have moved to room 2.",
            sender_name="Ana Kowalska",
            sender_email="ana@union.example.org",
            signer=TEST_SIGNER,
        )

    await mail_worker(database, clock, settings, smtp.url).drain()

    [message] = [m for m in smtp.recorder.received if "Room change" in m.message["Subject"]]
    assert reply_to(message.data) == Address("Ana Kowalska", addr_spec="ana@union.example.org")
    [confirmation] = [m for m in smtp.recorder.received if m is not message]
    assert reply_to(confirmation.data).addr_spec == "events@example.org"


async def test_no_reply_to_without_a_usable_organiser_address_and_mail_still_goes(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    blank = await make.event("Blank", organiser_name="Someone", organiser_email="")
    typo = await make.event("Typo", organiser_email="events at example dot org")
    await register(make, blank, "a@example.org")
    await register(make, typo, "b@example.org")

    result = await mail_worker(database, clock, settings, smtp.url).drain()

    assert result.sent == 2
    for message in smtp.recorder.messages():
        assert message["Reply-To"] is None
        assert NOT_REPLY in text_of(message) and NOT_REPLY in html_of(message)


async def test_alerts_carry_no_reply_to(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    topic = await make.topic("SEND")
    await active(database, clock, topic, "sam@example.org")
    event = await make.event("Small groups", topics=(topic,), publish=False)
    assert await publish(database, clock, event.id) == 1

    await mail_worker(database, clock, settings, smtp.url).drain()

    [alert] = [m for m in to(smtp.recorder.messages(), "sam@example.org") if "New" in m["Subject"]]
    assert alert["Reply-To"] is None
    assert NOT_REPLY in text_of(alert)
