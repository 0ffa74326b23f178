"""Event updated, event cancelled and organiser broadcasts, sent through the real SMTP server
and read back: headers, both parts, and the calendar part parsed."""

from __future__ import annotations

import datetime as dt

from events import lifecycle
from events.audit.service import SYSTEM
from events.catalog.fields import event_values, input_values
from events.catalog.lifecycle import event_with_details
from events.catalog.models import Event, EventFormat
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.formatting import when
from events.lifecycle import cancel_event
from events.mail.models import OutboxStatus
from events.registration import notices
from events.registration import service as registrations
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, html_of, mail_worker, text_of, to, vevent_of
from tests.registration.helpers import latest_token, outbox


async def _booked_and_waiting(make: Factory, title: str = "SEND: small group work") -> Event:
    event = await make.event(title, capacity=1, waiting_list_enabled=True)
    await register(make, event, "sam@example.org", name="Sam Teacher")
    await register(make, event, "alex@example.org", name="Alex Waiting")
    return event


async def test_update_sends_a_request_with_the_same_uid_and_raised_sequence(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await _booked_and_waiting(make)
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    [confirmation] = to(smtp.recorder.messages(), "sam@example.org")
    _, first = vevent_of(confirmation)
    smtp.recorder.received.clear()
    clock.advance(dt.timedelta(hours=2))

    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        row.starts_at += dt.timedelta(days=1, hours=1)
        row.ends_at += dt.timedelta(days=1, hours=1)
        row.ical_sequence += 1
        queued = await notices.notify_event_updated(
            session, clock, event=row, changed=["starts_at", "ends_at"], signer=TEST_SIGNER
        )
        new_when = when(row.starts_at, row.ends_at, row.timezone)
    assert queued == 1  # confirmed places only
    result = await mailer.drain()

    assert (result.sent, result.failed) == (1, 0)
    [message] = smtp.recorder.messages()
    assert "sam@example.org" in message["To"]
    assert message["Subject"] == "Changed: SEND: small group work"
    text, html = text_of(message), html_of(message)
    for part in (text, html):
        assert "the start time, the end time" in part
        assert new_when in part
        assert "http://testserver/r/" in part and "http://testserver/j/" in part
        assert "http://testserver/c/" in part  # the private calendar feed
    calendar, vevent = vevent_of(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == str(first["UID"])
    assert int(str(vevent["SEQUENCE"])) == 1 > int(str(first["SEQUENCE"]))
    assert vevent.decoded("DTSTAMP") > first.decoded("DTSTAMP")
    assert vevent.decoded("DTSTART") == first.decoded("DTSTART") + dt.timedelta(days=1, hours=1)
    assert str(vevent["ORGANIZER"]).lower() == "mailto:events@example.org"
    assert "sam@example.org" in str(vevent["ATTENDEE"])
    [sent] = await outbox(database, "event_updated")
    assert "manage_token" not in sent.payload and "calendar_token" not in sent.payload


async def test_organizer_is_never_the_recipient(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(organiser_email="sam@example.org")
    await register(make, event, "sam@example.org")

    await mail_worker(database, clock, settings, smtp.url).drain()

    [message] = smtp.recorder.messages()
    _, vevent = vevent_of(message)
    assert str(vevent["ORGANIZER"]).lower() == "mailto:events@mail.example.org"


async def test_event_cancelled_cancels_confirmed_places_and_tells_the_waiting_list(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await _booked_and_waiting(make)
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    _, first = vevent_of(to(smtp.recorder.messages(), "sam@example.org")[0])
    smtp.recorder.received.clear()

    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        await cancel_event(session, clock, row)
        queued = await notices.notify_event_cancelled(session, clock, event=row)
    assert queued == 2
    await mailer.drain()

    [booked] = to(smtp.recorder.messages(), "sam@example.org")
    [waiting] = to(smtp.recorder.messages(), "alex@example.org")
    for message in (booked, waiting):
        assert message["Subject"] == "Cancelled: SEND: small group work"
        assert "has been cancelled by its organiser" in text_of(message)
        assert "has been cancelled by its organiser" in html_of(message)
        assert "/r/" not in text_of(message)  # nothing left to manage
    calendar, vevent = vevent_of(booked)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["UID"]) == str(first["UID"])
    assert int(str(vevent["SEQUENCE"])) > int(str(first["SEQUENCE"]))
    assert "removes the event from your calendar" in text_of(booked)
    assert calendar_part(waiting) is None
    assert not list(waiting.iter_attachments())
    for part in (text_of(waiting), html_of(waiting)):
        assert "your place on the waiting list has ended with it" in part


async def test_broadcast_is_plain_text_escaped_in_html_and_says_who_sent_it(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await _booked_and_waiting(make, "Workload clinic")
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    smtp.recorder.received.clear()

    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event.id)
        assert row is not None
        queued = await notices.broadcast(
            session,
            clock,
            event=row,
            subject="Room change\r\nBcc: everyone@example.org",
            body="Hello all,\r\n\r\nWe meet in <b>Room 2</b> & bring <script>x</script>.\nThanks",
            sender_name="Priya Organiser",
            signer=TEST_SIGNER,
        )
    assert queued == 1  # confirmed attendees only
    await mailer.drain()

    [message] = smtp.recorder.messages()
    assert message["Subject"] == "Room change Bcc: everyone@example.org (Workload clinic)"
    assert message["Bcc"] is None
    assert smtp.recorder.received[0].recipients == ["sam@example.org"]
    text, html = text_of(message), html_of(message)
    assert "Sent by Priya Organiser, the organiser of Workload clinic" in text
    assert "We meet in <b>Room 2</b> & bring <script>x</script>." in text
    assert "Sent by Priya Organiser, the organiser of <strong>Workload clinic</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;Room 2&lt;/b&gt; &amp; bring" in html
    assert "<p>Hello all,</p>" in html  # paragraphs kept
    assert "http://testserver/c/" in text and "http://testserver/r/" in text
    assert calendar_part(message) is None


async def _move(make: Factory, event: Event, **changes: object) -> lifecycle.Applied:
    """Change the event through the lifecycle service, as the console and the API do."""
    async with unit_of_work(make.database.writer) as session:
        row = await event_with_details(session, event.id)
        data = input_values({**event_values(row), **changes})
        return await lifecycle.update_event(
            session, make.clock, event=row, data=data, actor=SYSTEM, signer=TEST_SIGNER
        )


async def test_a_move_updates_confirmed_calendars_and_tells_the_waiting_list_plainly(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    """Issue 13 item 3: a new venue sends the confirmed place a REQUEST at SEQUENCE + 1 and
    the person waiting a plain email (no text/calendar part, no .ics, no joining or calendar
    link) saying they are still on the waiting list, over real SMTP with the usual headers."""
    event = await make.event(
        "SEND: small group work",
        capacity=1,
        waiting_list_enabled=True,
        format=EventFormat.hybrid,
        venue_name="Hamilton House",
        organiser_email="priya@union.example.org",
        organiser_name="Priya Organiser",
    )
    await register(make, event, "sam@example.org", name="Sam Teacher")
    await register(make, event, "alex@example.org", name="Alex Waiting")
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    _, first = vevent_of(to(smtp.recorder.messages(), "sam@example.org")[0])
    smtp.recorder.received.clear()
    clock.advance(dt.timedelta(hours=1))

    applied = await _move(make, event, venue_name="Town Hall", town="Leeds")
    assert (applied.notified, applied.waitlist_notified) == (1, 1)
    result = await mailer.drain()
    assert (result.sent, result.failed) == (2, 0)

    [booked] = to(smtp.recorder.messages(), "sam@example.org")
    calendar, vevent = vevent_of(booked)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == str(first["UID"])
    assert int(str(vevent["SEQUENCE"])) == int(str(first["SEQUENCE"])) + 1
    assert "Town Hall" in str(vevent["LOCATION"])

    [waiting] = to(smtp.recorder.messages(), "alex@example.org")
    assert waiting["Subject"] == "Changed: SEND: small group work (you are on the waiting list)"
    assert "Alex Waiting" in str(waiting["To"])
    assert waiting["From"].addresses[0].addr_spec == "events@mail.example.org"
    assert waiting["Reply-To"].addresses[0].addr_spec == "priya@union.example.org"
    assert waiting["Message-ID"] and waiting["Date"]
    assert calendar_part(waiting) is None
    assert not list(waiting.iter_attachments())
    assert {p.get_content_type() for p in waiting.walk()} == {
        "multipart/alternative",
        "text/plain",
        "text/html",
    }
    text, html = text_of(waiting), html_of(waiting)
    for part in (text, html):
        assert "still on the waiting list" in part
        assert "the venue, the town" in part
        assert "Town Hall" in part
        assert "http://testserver/r/" in part  # to leave the waiting list
        assert "/j/" not in part and "/c/" not in part
        assert "meet.example.org" not in part
    [row] = await outbox(database, "waitlist_moved")
    assert row.status == OutboxStatus.sent
    assert not {"manage_token", "join_token", "calendar_token"} & set(row.payload)


async def test_a_new_title_is_not_news_for_the_waiting_list(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory
) -> None:
    event = await _booked_and_waiting(make)
    applied = await _move(make, event, title="A better title")
    assert (applied.notified, applied.waitlist_notified) == (1, 0)
    assert await outbox(database, "waitlist_moved") == []


async def test_a_move_notice_for_someone_promoted_before_it_went_is_not_sent(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    """They were sent "a place has come up", whose invite has the new details."""
    event = await _booked_and_waiting(make)
    await _move(make, event, town="Leeds")
    async with unit_of_work(database.writer) as session:
        await registrations.cancel(
            session,
            clock,
            token=await latest_token(database, "sam@example.org"),
            signer=TEST_SIGNER,
        )
    await mail_worker(database, clock, settings, smtp.url).drain()
    [row] = await outbox(database, "waitlist_moved")
    assert row.status == OutboxStatus.skipped
    assert row.last_error == "superseded: the registration is confirmed now"
    [promoted] = to(smtp.recorder.messages(), "alex@example.org")
    assert promoted["Subject"].startswith("A place has come up for you")
