"""International addresses on the way out (issue 13 item 12), over real SMTP (aiosmtpd).

A UTF-8 mailbox name (``jöran@``) goes with SMTPUTF8 when the relay offers it, and fails on
its own, for good and with a clear reason, when it does not. An ASCII mailbox name at an
international domain always goes: the domain is IDNA-encoded in the envelope and the To
header. The invite's ATTENDEE is a valid ``mailto:`` URI either way."""

from __future__ import annotations

import asyncio
import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import vobject  # type: ignore[import-untyped]
from starlette.applications import Starlette

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.mail.models import OutboxStatus
from events.mail.transport import SMTPUTF8_REFUSED
from events.organiser.models import OrganiserRole
from tests.factories import Factory
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, mail_worker, text_of, vevent_of
from tests.mail.test_refusals import queue, rows
from tests.organiser.helpers import give_event, new_organiser, sign_in

JORAN = "jöran@exämple.com"  # as parse_email stores it
JORAN_ENVELOPE = "jöran@xn--exmple-cua.com"


def _parsed(data: bytes) -> EmailMessage:
    """RFC 6532: the headers are UTF-8 (the bytes parser would leave surrogates)."""
    message = email.message_from_string(data.decode("utf-8"), policy=policy.SMTPUTF8)
    assert isinstance(message, EmailMessage)
    return message


def _header_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


async def test_a_utf8_mailbox_goes_with_smtputf8_and_correct_headers(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event("Workload webinar")
    await queue(database, clock, event.id, JORAN)

    result = await mail_worker(database, clock, settings, smtp.url).drain()

    assert (result.sent, result.failed) == (1, 0)
    [received] = smtp.recorder.received
    assert "SMTPUTF8" in received.mail_options
    assert received.recipients == [JORAN_ENVELOPE]
    assert received.sender == "events@mail.example.org"
    # RFC 6532: the address is raw UTF-8 in the header, never encoded-words, which would
    # leave nothing anyone could reply to.
    [to_line] = [line for line in _header_lines(received.data) if line.startswith(b"To:")]
    assert to_line == "To: Sam <jöran@exämple.com>".encode()
    message = _parsed(received.data)
    [address] = message["To"].addresses
    assert (address.username, address.domain, address.display_name) == (
        "jöran",
        "exämple.com",
        "Sam",
    )
    assert "Workload webinar" in text_of(message)
    # The invite names the attendee with a valid mailto: URI, read by both parsers.
    _, vevent = vevent_of(message)
    assert str(vevent["ATTENDEE"]) == "mailto:j%C3%B6ran@xn--exmple-cua.com"
    part = calendar_part(message)
    assert part is not None
    raw = part.get_content()
    [second] = vobject.readOne(raw if isinstance(raw, str) else raw.decode()).vevent_list
    assert second.attendee.value == "mailto:j%C3%B6ran@xn--exmple-cua.com"


async def test_without_smtputf8_only_that_message_fails_and_organisers_see_why(
    app: Starlette,
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp_ascii_only: SmtpServer,
) -> None:
    event = await make.event("Workload webinar")
    for address in ("before@example.org", JORAN, "sam@exämple.com", "after@example.org"):
        await queue(database, clock, event.id, address)

    result = await mail_worker(database, clock, settings, smtp_ascii_only.url).drain()

    assert (result.sent, result.failed, result.retried) == (3, 1, 0)
    assert [r.recipients for r in smtp_ascii_only.recorder.received] == [
        ["before@example.org"],
        ["sam@xn--exmple-cua.com"],  # an ASCII mailbox name: the domain IDNA-encoded
        ["after@example.org"],
    ]
    refused = (await rows(database))[JORAN]
    assert refused.status == OutboxStatus.failed
    assert refused.last_error == SMTPUTF8_REFUSED
    assert "does not accept international addresses (SMTPUTF8)" in SMTPUTF8_REFUSED

    organiser = await new_organiser(database, clock, role=OrganiserRole.organiser)
    await give_event(database, event, organiser)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as console:
        await sign_in(console, database, clock, organiser)
        page = await console.get(f"/organiser/events/{event.slug}/mail")
    assert page.status_code == 200
    assert "does not accept international addresses (SMTPUTF8)" in page.text


async def test_an_ascii_mailbox_at_an_international_domain_needs_no_smtputf8(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp_ascii_only: SmtpServer,
) -> None:
    event = await make.event()
    await queue(database, clock, event.id, "sam@exämple.com")

    result = await mail_worker(database, clock, settings, smtp_ascii_only.url).drain()

    assert result.sent == 1
    [received] = smtp_ascii_only.recorder.received
    assert received.recipients == ["sam@xn--exmple-cua.com"]
    assert "SMTPUTF8" not in received.mail_options
    headers = b"\r\n".join(_header_lines(received.data))
    assert headers.isascii()
    assert b"To: Sam <sam@xn--exmple-cua.com>" in headers
    _, vevent = vevent_of(_parsed(received.data))
    assert str(vevent["ATTENDEE"]) == "mailto:sam@xn--exmple-cua.com"


async def test_a_display_name_in_the_sender_setting_does_not_need_smtputf8(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp_ascii_only: SmtpServer,
) -> None:
    """MAIL FROM carries the bare address: a sender named "Événements" is From-header
    text, not a reason to ask the relay for SMTPUTF8 (which this one lacks)."""
    event = await make.event()
    await queue(database, clock, event.id, "sam@example.org")
    worker = mail_worker(database, clock, settings, smtp_ascii_only.url)
    worker.settings = worker.settings.model_copy(
        update={"mail_from": "Événements <events@mail.example.org>"}
    )

    result = await worker.drain()

    assert result.sent == 1
    [received] = smtp_ascii_only.recorder.received
    assert received.sender == "events@mail.example.org"
    assert "Événements" in str(_parsed(received.data)["From"])


async def test_the_folder_transport_writes_a_utf8_address_as_utf8(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, tmp_path: Path
) -> None:
    event = await make.event()
    await queue(database, clock, event.id, JORAN)

    result = await mail_worker(database, clock, settings, tmp_path.as_uri()).drain()

    assert result.sent == 1
    [written] = await asyncio.to_thread(lambda: list(tmp_path.glob("*.eml")))
    data = await asyncio.to_thread(written.read_bytes)
    assert "To: Sam <jöran@exämple.com>".encode() in _header_lines(data)
    assert b"=?utf-8?q?j" not in data
