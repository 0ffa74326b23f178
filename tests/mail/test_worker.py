"""The outbox worker against a real SMTP server (aiosmtpd) in the test process."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage, OutboxStatus
from events.mail.outbox import enqueue
from events.mail.transport import FolderTransport
from events.mail.worker import Worker, WorkerOptions
from events.registration.messages import Confirmed
from events.wiring import JOBS, message_registry
from events.wiring import worker as build_worker
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer, free_port
from tests.registration.helpers import outbox

OPTIONS = WorkerOptions(
    batch_size=10,
    lease=dt.timedelta(minutes=5),
    retry_base=dt.timedelta(minutes=1),
    retry_max=dt.timedelta(hours=1),
    max_attempts=5,
    poll_seconds=0.05,
)


def mail_settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"mail_url": url, "mail_from": "Events <events@example.org>"})


def worker(
    database: Database, clock: FrozenClock, settings: Settings, url: str, **kw: Any
) -> Worker:
    kw.setdefault("signer", TEST_SIGNER)
    return build_worker(database, clock, mail_settings(settings, url), options=OPTIONS, **kw)


async def row(database: Database, row_id: int) -> OutboxMessage:
    async with database.reader() as session:
        return (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.id == row_id))
        ).one()


async def queue_raw(
    database: Database, clock: FrozenClock, event_id: int, recipient: str, **payload: Any
) -> int:
    """An outbox row written directly, for payloads no form would accept."""
    values: dict[str, Any] = {"event_id": event_id, "name": "Sam", "manage_token": "m-1"}
    values.update(payload)
    async with unit_of_work(database.writer) as session:
        message = await enqueue(
            session,
            clock,
            message=Confirmed(**values),
            recipient=recipient,
            dedupe_key=f"raw:{recipient}:{values!r}",
        )
        return message.id


async def test_confirmation_is_delivered_with_headers_and_both_parts(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event("SEND: small group work")
    await register(
        make,
        event,
        "sam@example.org",
        name="Siân Teacher",
        access_requirements=["bsl"],
        access_details="Please face the camera",
        consents=["privacy", "access_data"],
    )

    result = await worker(database, clock, settings, smtp.url).drain()

    assert (result.claimed, result.sent, result.failed) == (1, 1, 0)
    [received] = smtp.recorder.received
    assert received.recipients == ["sam@example.org"]
    assert received.sender == "events@example.org"
    message = received.message
    assert message["Subject"] == "Your place is confirmed: SEND: small group work"
    assert message["To"].addresses[0].display_name == "Siân Teacher"
    [sent] = await outbox(database)
    assert message["Message-ID"] == sent.message_id
    body = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert body is not None and html is not None
    assert "http://testserver/r/" in body.get_content()
    assert "http://testserver/j/" in body.get_content()  # an online event: joining link
    assert "Please face the camera" in body.get_content()
    assert '<html lang="en-GB">' in html.get_content()


async def test_tokens_are_removed_from_the_payload_once_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    await register(make, event, "sam@example.org")
    [queued] = await outbox(database)
    assert "manage_token" in queued.payload

    await worker(database, clock, settings, smtp.url).drain()

    [sent] = await outbox(database)
    assert sent.status == OutboxStatus.sent
    assert "manage_token" not in sent.payload and "join_token" not in sent.payload
    assert sent.sent_at == clock.now()
    assert sent.claimed_until is None
    content = smtp.recorder.received[0].data.decode()
    assert queued.payload["manage_token"] in content.replace("=\r\n", "")


async def test_header_injection_from_a_queued_name_reaches_no_one_else(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    for name in ("Eve\r\nBcc: victim@example.org", "=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?="):
        await queue_raw(database, clock, event.id, "eve@example.org", name=name)

    await worker(database, clock, settings, smtp.url).drain()

    assert len(smtp.recorder.received) == 2
    for received in smtp.recorder.received:
        assert received.recipients == ["eve@example.org"]
        assert received.message["Bcc"] is None


async def test_temporary_failure_backs_off_exponentially_on_4xx(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "temp-fail@example.org")
    mailer = worker(database, clock, settings, smtp.url)

    first = await mailer.drain()
    after_one = await row(database, row_id)
    assert (first.retried, first.failed) == (1, 0)
    assert after_one.status == OutboxStatus.pending
    assert after_one.attempts == 1
    assert after_one.next_attempt_at == clock.now() + dt.timedelta(minutes=1)
    assert after_one.last_error.startswith("451")
    assert after_one.claimed_until is None

    assert (await mailer.drain()).claimed == 0  # not due yet
    clock.advance(dt.timedelta(minutes=1))
    await mailer.drain()
    after_two = await row(database, row_id)
    assert after_two.attempts == 2
    assert after_two.next_attempt_at == clock.now() + dt.timedelta(minutes=2)
    assert smtp.recorder.received == []


async def test_temporary_failures_become_permanent_after_max_attempts(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "temp-fail@example.org")
    mailer = worker(database, clock, settings, smtp.url)
    for _ in range(OPTIONS.max_attempts):
        await mailer.drain()
        clock.advance(OPTIONS.retry_max)
    failed = await row(database, row_id)
    assert failed.status == OutboxStatus.failed
    assert failed.attempts == OPTIONS.max_attempts
    assert "gave up" in failed.last_error
    assert "manage_token" not in failed.payload


async def test_permanent_failure_is_recorded_with_the_answer_on_5xx(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    bad = await queue_raw(database, clock, event.id, "perm-fail@example.org")
    good = await queue_raw(database, clock, event.id, "ok@example.org")

    result = await worker(database, clock, settings, smtp.url).drain()

    assert (result.sent, result.failed) == (1, 1)
    failed = await row(database, bad)
    assert failed.status == OutboxStatus.failed
    assert failed.last_error == "550 5.1.1 No such user here"
    assert "manage_token" not in failed.payload
    assert (await row(database, good)).status == OutboxStatus.sent
    assert [r.recipients for r in smtp.recorder.received] == [["ok@example.org"]]


async def test_connection_refused_is_temporary_for_the_whole_batch(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory
) -> None:
    event = await make.event()
    ids = [await queue_raw(database, clock, event.id, f"p{i}@example.org") for i in range(3)]

    result = await worker(database, clock, settings, f"smtp://127.0.0.1:{free_port()}").drain()

    assert (result.claimed, result.sent, result.retried, result.failed) == (3, 0, 3, 0)
    rows = [await row(database, i) for i in ids]
    assert all(r.status == OutboxStatus.pending for r in rows)
    assert [r.attempts for r in rows] == [1, 0, 0]  # only the message tried counts a try
    assert all(r.next_attempt_at > clock.now() for r in rows)
    assert all(r.claimed_until is None for r in rows)


async def test_expired_lease_lets_another_worker_send_with_the_same_message_id(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "sam@example.org")
    dead = worker(database, clock, settings, smtp.url, worker_id="dead")
    assert await dead.claim() == [row_id]  # ... and then the process dies

    survivor = worker(database, clock, settings, smtp.url, worker_id="survivor")
    assert (await survivor.drain()).claimed == 0  # the lease still holds
    clock.advance(OPTIONS.lease)
    assert (await survivor.drain()).sent == 1

    [received] = smtp.recorder.received
    assert received.message["Message-ID"].startswith(f"<outbox-{row_id}.")
    assert received.message["Message-ID"] == (await row(database, row_id)).message_id


async def test_message_id_is_the_same_when_a_message_is_sent_again(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "sam@example.org")
    first = worker(database, clock, settings, smtp.url)
    await first.drain()
    # As after a crash between the server's acceptance and the record: pending again.
    async with unit_of_work(database.writer) as session:
        sent = await session.get_one(OutboxMessage, row_id)
        sent.status = OutboxStatus.pending
    await worker(database, clock, settings, smtp.url).drain()

    ids = [r.message["Message-ID"] for r in smtp.recorder.received]
    assert len(ids) == 2 and ids[0] == ids[1]


class UnleasedWorker(Worker):
    """The control: picks due rows whoever holds them and marks them its own regardless, as
    a worker without the lease (or without SKIP LOCKED / the conditional UPDATE) would."""

    async def claim(self) -> list[int]:
        async with self.database.reader() as session:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.pending,
                    OutboxMessage.next_attempt_at <= self.clock.now(),
                )
                .order_by(OutboxMessage.id)
                .limit(self.options.batch_size)
            )
            ids = list((await session.scalars(due)).all())
        async with unit_of_work(self.database.writer) as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_by=self.worker_id)
                .execution_options(synchronize_session=False)
            )
        return ids


async def _concurrent_send(
    database_url: str,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    worker_class: type[Worker],
    count: int,
) -> list[str]:
    event = await make.event()
    async with unit_of_work(make.database.writer) as session:
        for i in range(count):
            await enqueue(
                session,
                clock,
                message=Confirmed(event_id=event.id, name=f"Person {i}", manage_token=f"t{i}"),
                recipient=f"p{i}@example.org",
                dedupe_key=f"bulk:{i}",
            )
    databases = [Database.from_url(database_url) for _ in range(3)]
    try:
        workers = [
            worker_class(
                db,
                clock,
                mail_settings(settings, smtp.url),
                signer=TEST_SIGNER,
                registry=message_registry(),
                jobs=JOBS,
                options=OPTIONS,
                worker_id=f"w{n}",
            )
            for n, db in enumerate(databases)
        ]
        await asyncio.gather(*(w.drain() for w in workers))
    finally:
        for db in databases:
            await db.dispose()
    return [r.recipients[0] for r in smtp.recorder.received]


async def test_each_message_is_sent_once_by_concurrent_workers(
    database_url: str, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    count = 120
    recipients = await _concurrent_send(database_url, clock, settings, make, smtp, Worker, count)
    assert len(recipients) == count
    assert len(set(recipients)) == count
    rows = await outbox(make.database)
    assert all(r.status == OutboxStatus.sent for r in rows)


async def test_duplicates_are_visible_when_workers_do_not_claim(
    database_url: str, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    count = 60
    recipients = await _concurrent_send(
        database_url, clock, settings, make, smtp, UnleasedWorker, count
    )
    assert len(set(recipients)) == count
    assert len(recipients) > count  # the race the claim prevents is real


async def test_run_stops_when_told(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event()
    await queue_raw(database, clock, event.id, "sam@example.org")
    stop = asyncio.Event()
    mailer = worker(database, clock, settings, smtp.url)
    task = asyncio.create_task(mailer.run(stop))
    for _ in range(200):
        if smtp.recorder.received:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(smtp.recorder.received) == 1


async def test_folder_transport_writes_one_eml_per_message(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, tmp_path: Path
) -> None:
    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "sam@example.org")
    folder = tmp_path / "outbox"

    result = await worker(database, clock, settings, folder.as_uri()).drain()

    assert result.sent == 1
    [written] = list(folder.iterdir())
    assert written.suffix == ".eml"
    assert written.name.startswith(f"outbox-{row_id}.")
    assert b"Subject: Your place is confirmed" in written.read_bytes()
    assert isinstance(
        build_worker(
            database, clock, mail_settings(settings, folder.as_uri()), signer=TEST_SIGNER
        ).transport,
        FolderTransport,
    )


async def test_confirmation_carries_the_invite_and_cancellation_removes_it(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    from events.registration import service as registration_service
    from tests.factories import TEST_SIGNER
    from tests.registration.helpers import latest_token

    event = await make.event()
    mailer = worker(database, clock, settings, smtp.url)
    await register(make, event, "sam@example.org")
    token = await latest_token(database, "sam@example.org")
    # Sent before the cancellation (one still queued then is skipped: test_invite_sequences).
    await mailer.drain()
    async with unit_of_work(database.writer) as session:
        await registration_service.cancel(session, clock, token=token, signer=TEST_SIGNER)

    await mailer.drain()

    confirmed, cancelled = (r.message for r in smtp.recorder.received)
    for message, method in ((confirmed, "REQUEST"), (cancelled, "CANCEL")):
        assert message.get_content_type() == "multipart/mixed"
        [calendar] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert calendar.get_param("method") == method
        ics = calendar.get_content()
        assert f"METHOD:{method}" in ics
        assert "mailto:sam@example.org" in ics.lower()
        assert f"UID:{event.uid}" in ics
        [attachment] = [p for p in message.walk() if p.get_filename() == "invite.ics"]
        assert f"METHOD:{method}".encode() in attachment.get_content()
    assert "http://testserver/j/" in confirmed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_compose_bug_is_retried_not_lost(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("invite builder bug")

    event = await make.event()
    row_id = await queue_raw(database, clock, event.id, "sam@example.org")

    result = await worker(
        database, clock, settings, smtp.url, registry=message_registry(invites=broken)
    ).drain()

    assert (result.retried, result.failed) == (1, 0)
    after = await row(database, row_id)
    assert after.status == OutboxStatus.pending and after.attempts == 1
    assert "invite builder bug" in after.last_error


async def test_message_about_a_missing_event_fails_for_good(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    row_id = await queue_raw(database, clock, 999_999, "sam@example.org")

    result = await worker(database, clock, settings, smtp.url).drain()

    assert result.failed == 1
    after = await row(database, row_id)
    assert after.status == OutboxStatus.failed
    assert "no longer exists" in after.last_error
    assert smtp.recorder.received == []
