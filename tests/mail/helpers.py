"""Shared by the mail and alerts tests: a worker pointed at the test SMTP server, and
reading back what it received."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar, Component

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.mail.worker import Worker, WorkerOptions
from events.wiring import worker
from tests.factories import TEST_SIGNER

OPTIONS = WorkerOptions(
    batch_size=50,
    lease=dt.timedelta(minutes=5),
    retry_base=dt.timedelta(minutes=1),
    retry_max=dt.timedelta(hours=1),
    max_attempts=5,
    poll_seconds=0.05,
)


def mail_worker(
    database: Database, clock: FrozenClock, settings: Settings, url: str, **kw: Any
) -> Worker:
    configured = settings.model_copy(
        update={"mail_url": url, "mail_from": "Union Events <events@mail.example.org>"}
    )
    kw.setdefault("signer", TEST_SIGNER)
    return worker(database, clock, configured, options=kw.pop("options", OPTIONS), **kw)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    content: str = part.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    content: str = part.get_content()
    return content


def calendar_part(message: EmailMessage) -> EmailMessage | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            assert isinstance(part, EmailMessage)
            return part
    return None


def vevent_of(message: EmailMessage) -> tuple[Calendar, Component]:
    """The invite in the alternative part, parsed, checked to equal the .ics attachment."""
    part = calendar_part(message)
    assert part is not None, "no text/calendar part"
    raw = part.get_content()
    attachments = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert len(attachments) == 1
    assert attachments[0].get_content() == (raw.encode() if isinstance(raw, str) else raw)
    calendar = Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    assert part.get_param("method") == str(calendar["METHOD"])
    return calendar, event


def to(received: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in received if address in str(m["To"])]
