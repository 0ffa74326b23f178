"""Messaging an event's attendees through the outbox, and the event's outgoing mail page."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update

from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.mail.models import OutboxMessage, OutboxStatus
from events.organiser.models import Organiser
from tests.factories import Factory, register
from tests.organiser.helpers import give_event
from tests.registration.helpers import csrf_token, latest_token, outbox


async def _event(make: Factory, database: Database, organiser: Organiser) -> Event:
    """Two confirmed, one waiting, one cancelled (by their own link)."""
    from events.registration import service
    from tests.factories import TEST_SIGNER

    event = await make.event(capacity=3, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    for email in ("a@example.org", "b@example.org", "c@example.org", "w@example.org"):
        await register(make, event, email)
    token = await latest_token(database, "c@example.org")
    async with unit_of_work(database.writer) as session:
        # c cancels; w is promoted; then w2 joins the waiting list.
        await service.cancel(session, make.clock, token=token, signer=TEST_SIGNER)
    await register(make, event, "w2@example.org")
    return event


async def test_message_preview_counts_then_queues_one_email_per_confirmed_person(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
) -> None:
    event = await _event(make, database, organiser)
    other = await make.event()
    await register(make, other, "elsewhere@example.org")
    path = f"/organiser/events/{event.slug}/message"
    token = await csrf_token(console, path)
    before = len(await outbox(database, "broadcast"))
    fields = {
        "csrf_token": token,
        "subject": "Room change <b>",
        "body": "We have moved to room 2.\nSee you there.",
        "audience": "confirmed",
    }
    preview = await console.post(path, data={**fields, "step": "preview"})
    assert preview.status_code == 200
    assert "<strong>3 people</strong>" in preview.text
    assert "Room change &lt;b&gt;" in preview.text  # escaped, never markup
    assert len(await outbox(database, "broadcast")) == before  # a preview sends nothing

    sent = await console.post(path, data={**fields, "step": "send"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/organiser/events/{event.slug}/mail?done=sent&n=3"
    rows = await outbox(database, "broadcast")
    assert sorted(m.recipient for m in rows) == [
        "a@example.org",
        "b@example.org",
        "w@example.org",
    ]
    assert {m.event_id for m in rows} == {event.id}
    assert rows[0].payload["subject"] == "Room change <b>"
    assert rows[0].payload["body"] == "We have moved to room 2.\nSee you there."
    page = await console.get(sent.headers["location"])
    assert "Your message has been queued for 3 people." in page.text


async def test_message_to_the_waiting_list_reaches_only_those_waiting(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
) -> None:
    event = await _event(make, database, organiser)
    path = f"/organiser/events/{event.slug}/message"
    token = await csrf_token(console, path)
    sent = await console.post(
        path,
        data={
            "csrf_token": token,
            "subject": "Still waiting",
            "body": "A place may come up.",
            "audience": "waitlisted",
            "step": "send",
        },
    )
    assert sent.status_code == 303
    assert [m.recipient for m in await outbox(database, "broadcast")] == ["w2@example.org"]


async def test_a_message_without_subject_or_body_is_refused_and_nothing_is_queued(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
) -> None:
    event = await _event(make, database, organiser)
    path = f"/organiser/events/{event.slug}/message"
    token = await csrf_token(console, path)
    refused = await console.post(
        path,
        data={"csrf_token": token, "subject": " ", "body": "", "audience": "all", "step": "send"},
    )
    assert refused.status_code == 422
    for message in ("Enter a subject.", "Enter your message.", "Choose who receives"):
        assert message in refused.text
    assert await outbox(database, "broadcast") == []


async def test_mail_page_shows_the_events_mail_with_a_failed_rows_error(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    console: httpx.AsyncClient,
) -> None:
    event = await _event(make, database, organiser)
    other = await make.event()
    await register(make, other, "elsewhere@example.org")
    async with unit_of_work(database.writer) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.recipient == "a@example.org")
            .values(
                status=OutboxStatus.failed,
                attempts=5,
                last_error="550 5.1.1 <a@example.org>: Recipient address rejected",
            )
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.recipient == "b@example.org")
            .values(status=OutboxStatus.sent, attempts=1, sent_at=clock.now())
        )
    page = await console.get(f"/organiser/events/{event.slug}/mail")
    assert page.status_code == 200
    assert "550 5.1.1 &lt;a@example.org&gt;: Recipient address rejected" in page.text
    assert "failed" in page.text and "sent" in page.text and "pending" in page.text
    assert "elsewhere@example.org" not in page.text

    # Paged, newest first.
    clock.advance(dt.timedelta(minutes=5))
    for n in range(60):
        await register(make, event, f"late{n}@example.org")
    first = await console.get(f"/organiser/events/{event.slug}/mail")
    assert "late59@example.org" in first.text and "Older messages" in first.text
    second = await console.get(f"/organiser/events/{event.slug}/mail?page=2")
    assert "550 5.1.1" in second.text and "late59@example.org" not in second.text
