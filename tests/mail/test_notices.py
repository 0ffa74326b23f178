"""Event updated, event cancelled and organiser broadcasts, sent through the real SMTP server
and read back: headers, both parts, and the calendar part parsed."""

from __future__ import annotations

import datetime as dt

from events.catalog.models import Event
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.kit.formatting import when
from events.lifecycle import cancel_event
from events.registration import notices
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, html_of, mail_worker, text_of, to, vevent_of
from tests.registration.helpers import outbox


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
    assert "You were on the waiting list" in text_of(waiting)


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
