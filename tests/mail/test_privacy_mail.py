"""Privacy work the worker does: the subject access email over real SMTP, the retention
job on its schedule, and a graceful stop that leaves nothing claimed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.mail.worker import BatchResult
from events.privacy import service as privacy
from events.registration.messages import Waitlisted
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.test_worker import worker
from tests.registration.helpers import registrations


async def test_the_subject_access_email_arrives_with_its_data_and_the_row_keeps_no_secret(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event("SEND webinar")
    await register(
        make,
        event,
        "jo@example.org",
        access_requirements=["live_captions"],
        consents=["privacy", "access_data"],
    )
    async with unit_of_work(database.writer) as session:
        await privacy.request_subject_access(
            session, clock, email="jo@example.org", signer=TEST_SIGNER
        )
    await worker(database, clock, settings, smtp.url).drain()

    [message] = [
        m for m in smtp.recorder.messages() if m["Subject"] == "Your data held by Union events"
    ]
    assert message["To"] == "jo@example.org"
    [attachment] = [p for p in message.iter_attachments() if p.get_filename() == "your-data.json"]
    data = json.loads(attachment.get_content())
    assert data["registrations"][0]["event"] == "SEND webinar"
    assert data["registrations"][0]["access_requirements"] == ["live_captions"]
    assert "/privacy/erase/" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # Its footer links the privacy notice and the requests page too (issue 16 item 10).
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "How we use your data: http://testserver/privacy-notice\n" in text
    assert "Get a copy of your data or erase it: http://testserver/privacy\n" in text
    assert '<a href="http://testserver/privacy-notice"' in html
    assert '<a href="http://testserver/privacy"' in html
    async with database.reader() as session:
        [row] = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "subject_access")
            )
        ).all()
    assert row.status == OutboxStatus.sent and "erase_token" not in row.payload
    assert "live_captions" not in json.dumps(row.payload), "the row never held the data"


async def test_the_worker_runs_the_retention_job_on_its_schedule(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(starts_at=clock.now() + dt.timedelta(days=1))
    await register(
        make,
        event,
        "jo@example.org",
        access_requirements=["bsl"],
        consents=["privacy", "access_data"],
    )
    mail = worker(database, clock, settings, smtp.url)
    await mail.drain()
    [row] = await registrations(database, event.id)
    assert row.access_requirements == ["bsl"], "kept until the retention period is over"
    clock.advance(dt.timedelta(days=40))
    await mail.drain()
    [row] = await registrations(database, event.id)
    assert row.access_requirements == [] and row.access_purged_at is not None
    assert await mail.run_job("retention") is None, "at most once an hour per worker"
    clock.advance(dt.timedelta(hours=1))
    assert await mail.run_job("retention") is not None


async def test_a_stop_finishes_the_batch_in_hand_and_claims_no_other(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    async with unit_of_work(database.writer) as session:
        for i in range(35):
            await enqueue(
                session,
                clock,
                message=Waitlisted(event_id=event.id, name="Sam", position=1),
                recipient=f"p{i}@example.org",
                dedupe_key=f"stop-test:{i}",
                event_id=event.id,
            )
    stop = asyncio.Event()
    mail = worker(database, clock, settings, smtp.url)  # batches of 10

    def first_batch_done(result: BatchResult) -> None:
        stop.set()  # SIGTERM arrives during the first batch

    total = await mail.drain(first_batch_done, stop)
    assert total.claimed == 10 and total.sent == 10
    async with database.reader() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert sum(r.status == OutboxStatus.sent for r in rows) == 10
    waiting = [r for r in rows if r.status == OutboxStatus.pending]
    assert len(waiting) == 25 and all(r.claimed_by == "" for r in waiting), (
        "none held by a worker that is gone"
    )


async def test_the_worker_logs_no_addresses(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = await make.event()
    await register(make, event, "private.person@example.org")
    with caplog.at_level(logging.DEBUG, logger="events"):
        result = await worker(database, clock, settings, (tmp_path / "out").as_uri()).drain()
    assert result.sent == 1 and caplog.records, "the sending was logged"
    assert "private.person" not in caplog.text


async def test_erasures_cancellation_notice_keeps_nothing_once_sent_and_is_never_listed(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    from events.audit.service import MEMBER
    from events.organiser import attendance
    from events.privacy.service import REMOVED

    event = await make.event("SEND webinar", starts_at=clock.now() + dt.timedelta(days=3))
    await register(make, event, "jo@example.org", name="Jo Teacher")
    mail = worker(database, clock, settings, smtp.url)
    await mail.drain()  # the confirmation
    async with unit_of_work(database.writer) as session:
        await privacy.erase_email(
            session, clock, email="jo@example.org", signer=TEST_SIGNER, actor=MEMBER
        )
    async with database.reader() as session:
        listed = await attendance.event_mail(session, event)
        assert "jo@example.org" not in [m.recipient for m in listed.items]

    await mail.drain()

    [cancel] = [m for m in smtp.recorder.messages() if "cancelled" in str(m["Subject"])]
    assert cancel["To"].addresses[0].addr_spec == "jo@example.org", "the calendar entry goes"
    async with database.reader() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    [notice] = [r for r in rows if r.kind == "cancelled"]
    assert notice.status == OutboxStatus.sent
    assert (notice.recipient, notice.payload) == (REMOVED, {}), "scrubbed as soon as sent"
    everything = json.dumps([(r.recipient, r.payload, r.last_error) for r in rows])
    assert "jo@example.org" not in everything and "Jo Teacher" not in everything
