"""Topic alerts end to end: the subscribe form, the double opt-in email, confirming,
alerts on publication (exactly once), one-click unsubscribe (RFC 8058), daily digests.
Emails go through the real SMTP server (aiosmtpd) and are read back."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from events.alerts import service
from events.alerts.links import link_token
from events.alerts.models import AlertFrequency, SubscriptionStatus, TopicSubscription
from events.app import create_app
from events.catalog.models import Event, EventStatus, Topic
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.lifecycle import publish_event
from events.mail.compose import CONFIRM_PATH, UNSUBSCRIBE_PATH
from events.mail.models import OutboxMessage, OutboxStatus
from tests.factories import TEST_SIGNER, Factory
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import html_of, mail_worker, text_of
from tests.registration.helpers import csrf_token, outbox

DAY = dt.timedelta(days=1)


def link(message: EmailMessage, path: str) -> str:
    found = re.search(r"http://testserver(" + path + r"[^\s\"<>]+)", text_of(message))
    assert found, f"no {path} link in the email"
    return found.group(1)


async def subscription(database: Database, email: str) -> TopicSubscription:
    async with database.reader() as session:
        return (
            await session.scalars(select(TopicSubscription).where(TopicSubscription.email == email))
        ).one()


async def active(
    database: Database,
    clock: FrozenClock,
    topic: Topic,
    email: str,
    frequency: AlertFrequency = AlertFrequency.immediate,
) -> TopicSubscription:
    """A confirmed subscription, made through the service."""
    async with unit_of_work(database.writer) as session:
        await service.subscribe(
            session, clock, topic_slug=topic.slug, email=email, frequency=frequency
        )
    sub = await subscription(database, email)
    token = link_token(TEST_SIGNER, sub, "confirm")
    async with unit_of_work(database.writer) as session:
        return await service.confirm(session, clock, token=token, signer=TEST_SIGNER)


async def publish(database: Database, clock: FrozenClock, event_id: int) -> int:
    """Publish through the catalogue service (which queues the alerts); returns how many
    alerts about this event that publication queued."""

    async def alerts() -> int:
        async with database.reader() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "alert", OutboxMessage.event_id == event_id
                )
            )
            return len(rows.all())

    before = await alerts()
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event_id)
        assert row is not None
        await publish_event(session, clock, row)
    return await alerts() - before


async def unpublish(database: Database, event_id: int) -> None:
    async with unit_of_work(database.writer) as session:
        row = await session.get(Event, event_id)
        assert row is not None
        row.status = EventStatus.draft


def test_link_paths_match_the_app_routes(app: Starlette) -> None:
    assert app.url_path_for("alerts:confirm", token="T") == CONFIRM_PATH.format(token="T")
    assert app.url_path_for("alerts:unsubscribe", token="T") == UNSUBSCRIBE_PATH.format(token="T")


async def test_subscribe_confirm_publish_gives_one_alert(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    client: httpx.AsyncClient,
) -> None:
    topic = await make.topic("SEND")
    mailer = mail_worker(database, clock, settings, smtp.url)
    page = await client.get(f"/topics/{topic.slug}")
    assert 'action="/alerts/topics/' in page.text and '<label for="email">' in page.text
    token = await csrf_token(client, f"/topics/{topic.slug}")

    answer = await client.post(
        f"/alerts/topics/{topic.slug}",
        data={"csrf_token": token, "email": " Sam@Example.org ", "frequency": "immediate"},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "Check your email" in answer.text
    assert [r.status_code for r in answer.history] == [303]
    await mailer.drain()
    [confirmation] = smtp.recorder.messages()
    assert confirmation["Subject"] == "Confirm your email alerts for SEND"
    assert smtp.recorder.received[0].recipients == ["sam@example.org"]
    assert "Confirm your SEND alerts" in html_of(confirmation)
    assert confirmation["List-Unsubscribe"] is None
    confirm_path = link(confirmation, "/alerts/confirm/")

    # A draft published before confirming alerts nobody.
    early = await make.event("Too early", topics=(topic,), publish=False)
    assert await publish(database, clock, early.id) == 0

    shown = await client.get(confirm_path)  # a mail scanner fetching the link changes nothing
    assert shown.status_code == 200 and "Yes, send me SEND alerts" in shown.text
    assert (await subscription(database, "sam@example.org")).status == SubscriptionStatus.pending
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert form_token
    confirmed = await client.post(confirm_path, data={"csrf_token": form_token.group(1)})
    assert confirmed.status_code == 200 and "alerts for SEND are on" in confirmed.text
    assert (await subscription(database, "sam@example.org")).status == SubscriptionStatus.active

    event = await make.event("Small group interventions", topics=(topic,), publish=False)
    assert await publish(database, clock, event.id) == 1
    await unpublish(database, event.id)
    assert await publish(database, clock, event.id) == 0  # published again: still one
    await mailer.drain()
    await mailer.drain()

    alerts = [m for m in smtp.recorder.messages() if str(m["Subject"]).startswith("New SEND")]
    assert len(alerts) == 1
    [alert] = alerts
    assert alert["Subject"] == "New SEND event: Small group interventions"
    unsubscribe = str(alert["List-Unsubscribe"]).strip()
    assert re.fullmatch(r"<http://testserver/alerts/unsubscribe/\d+\.[\w-]+>", unsubscribe)
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for part in (text_of(alert), html_of(alert)):
        assert "Small group interventions" in part
        assert f"http://testserver/events/{event.slug}" in part
        assert unsubscribe.strip("<>") in part
    assert "/r/" not in text_of(alert) and "/j/" not in text_of(alert)
    assert len(await outbox(database, "alert")) == 1


async def test_one_click_unsubscribe_without_csrf_stops_alerts(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    smtp: SmtpServer,
    client: httpx.AsyncClient,
) -> None:
    topic = await make.topic("Workload")
    await active(database, clock, topic, "sam@example.org")
    mailer = mail_worker(database, clock, settings, smtp.url)
    await mailer.drain()
    first = await make.event(topics=(topic,), publish=False)
    assert await publish(database, clock, first.id) == 1
    await mailer.drain()
    [alert] = [m for m in smtp.recorder.messages() if "New Workload" in str(m["Subject"])]
    url = str(alert["List-Unsubscribe"]).strip().strip("<>")

    shown = await client.get(url)
    assert shown.status_code == 200 and "Unsubscribe from Workload alerts?" in shown.text
    # What a mail provider sends (RFC 8058): no cookie, no CSRF token.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as bare:
        answer = await bare.post(url, data={"List-Unsubscribe": "One-Click"})
        again = await bare.post(url, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert again.status_code == 200
    assert (await subscription(database, "sam@example.org")).status == (
        SubscriptionStatus.unsubscribed
    )
    second = await make.event(topics=(topic,), publish=False)
    assert await publish(database, clock, second.id) == 0


async def test_alert_queued_before_unsubscribing_is_skipped(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    topic = await make.topic()
    sub = await active(database, clock, topic, "sam@example.org")
    event = await make.event(topics=(topic,), publish=False)
    assert await publish(database, clock, event.id) == 1
    async with unit_of_work(database.writer) as session:
        token = link_token(TEST_SIGNER, sub, "unsubscribe")
        await service.unsubscribe(session, clock, token=token, signer=TEST_SIGNER)

    await mail_worker(database, clock, settings, smtp.url).drain()

    [row] = await outbox(database, "alert")
    assert row.status == OutboxStatus.skipped
    assert row.last_error == "the subscriber has unsubscribed"


async def test_the_answer_is_the_same_whoever_subscribes(
    database: Database,
    clock: FrozenClock,
    make: Factory,
    client: httpx.AsyncClient,
) -> None:
    topic = await make.topic("Funding")
    await active(database, clock, topic, "known@example.org")
    before = len(await outbox(database))
    token = await csrf_token(client, f"/alerts/topics/{topic.slug}")

    known = await client.post(
        f"/alerts/topics/{topic.slug}", data={"csrf_token": token, "email": "known@example.org"}
    )
    unknown = await client.post(
        f"/alerts/topics/{topic.slug}", data={"csrf_token": token, "email": "new@example.org"}
    )

    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert known.text == unknown.text
    rows = await outbox(database)
    assert [r.recipient for r in rows[before:]] == ["new@example.org"]


async def test_bad_input_honeypot_csrf_and_rate_limit(
    database: Database, clock: FrozenClock, make: Factory, client: httpx.AsyncClient
) -> None:
    topic = await make.topic("Inclusion")
    path = f"/alerts/topics/{topic.slug}"
    token = await csrf_token(client, path)

    bad = await client.post(
        path, data={"csrf_token": token, "email": "not an email", "frequency": "hourly"}
    )
    assert bad.status_code == 422
    assert 'class="error-summary"' in bad.text and "right format" in bad.text
    assert "Choose how often" in bad.text
    assert 'value="not an email"' in bad.text  # input kept
    bot = await client.post(
        path, data={"csrf_token": token, "email": "bot@example.org", "website": "x"}
    )
    assert bot.status_code == 303, "the same answer as anyone gets"
    assert "Check your email" in (await client.get(bot.headers["location"])).text
    forged = await client.post(path, data={"csrf_token": "forged", "email": "a@example.org"})
    assert forged.status_code == 403
    assert await outbox(database) == []

    answers = []
    for _ in range(4):
        clock.advance(dt.timedelta(seconds=5))
        sent = await client.post(path, data={"csrf_token": token, "email": "r@example.org"})
        answers.append(sent.status_code)
    assert answers == [303, 303, 303, 429]
    assert len(await outbox(database, "subscription_confirm")) == 3
    # The limit's answer is the form again, as typed, saying when to try again.
    held = await client.post(
        path, data={"csrf_token": token, "email": "r@example.org", "frequency": "daily"}
    )
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    assert 'value="r@example.org"' in held.text and 'value="daily" checked' in held.text
    assert "Please wait 10 minutes and try again" in held.text


async def test_validation_errors_count_against_nobody(
    settings: Settings, make: Factory, clock: FrozenClock, database: Database
) -> None:
    strict = settings.model_copy(
        update={"rate_limit_per_address": 1, "alert_rate_limit_per_email": 1}
    )
    app = create_app(strict, clock=clock, database=database)
    topic = await make.topic("Inclusion")
    path = f"/alerts/topics/{topic.slug}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = await csrf_token(client, path)
        for _ in range(5):
            bad = await client.post(path, data={"csrf_token": token, "email": "r@x"})
            assert bad.status_code == 422
        good = await client.post(path, data={"csrf_token": token, "email": "r@example.org"})
        assert good.status_code == 303
        assert good.headers["location"] == f"/alerts/topics/{topic.slug}/check-email"
        sent = len(await outbox(database))
        page = await client.get(good.headers["location"])
        assert page.status_code == 200 and "Check your email" in page.text
        assert (await client.get(good.headers["location"])).status_code == 200
        assert len(await outbox(database)) == sent, "a reload sends nothing"


async def test_wrong_or_tampered_links_are_not_found(
    database: Database,
    clock: FrozenClock,
    make: Factory,
    client: httpx.AsyncClient,
) -> None:
    topic = await make.topic()
    sub = await active(database, clock, topic, "sam@example.org")
    good = link_token(TEST_SIGNER, sub, "unsubscribe")
    confirm_token = link_token(TEST_SIGNER, sub, "confirm")
    for token in (good[:-1] + ("A" if good[-1] != "A" else "B"), "1.x", "abc", f"9{good}"):
        assert (await client.get(f"/alerts/unsubscribe/{token}")).status_code == 404
        assert (await client.post(f"/alerts/unsubscribe/{token}")).status_code == 404
    # A confirm link does not unsubscribe, and the reverse.
    assert (await client.get(f"/alerts/unsubscribe/{confirm_token}")).status_code == 404
    assert (await client.get(f"/alerts/confirm/{good}")).status_code == 404
    assert (await subscription(database, "sam@example.org")).status == SubscriptionStatus.active


async def test_daily_digest_lists_new_events_once_a_day(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    topic = await make.topic("SEND")
    clock.set(dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC))  # before 7am in London
    await active(database, clock, topic, "daily@example.org", AlertFrequency.daily)
    await active(database, clock, topic, "now@example.org", AlertFrequency.immediate)
    mailer = mail_worker(database, clock, settings, smtp.url)
    clock.advance(dt.timedelta(minutes=1))
    one = await make.event("First webinar", topics=(topic,), publish=False)
    two = await make.event("Second webinar", topics=(topic,), publish=False)
    assert await publish(database, clock, one.id) == 1  # the immediate subscriber only
    assert await publish(database, clock, two.id) == 1
    await mailer.drain()
    assert not [m for m in smtp.recorder.messages() if "daily@" in str(m["To"])]

    clock.set(dt.datetime(2026, 3, 2, 7, 5, tzinfo=dt.UTC))
    await mailer.drain()
    clock.advance(dt.timedelta(hours=3))
    await mailer.drain()  # the same day: no second digest

    [digest] = [m for m in smtp.recorder.messages() if "daily@" in str(m["To"])]
    assert digest["Subject"] == "New SEND events: 2"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for part in (text_of(digest), html_of(digest)):
        assert "First webinar" in part and "Second webinar" in part
        assert "2 new" in part
    three = await make.event("Third webinar", topics=(topic,), publish=False)
    await publish(database, clock, three.id)
    clock.advance(DAY)
    await mailer.drain()
    digests = [m for m in smtp.recorder.messages() if "daily@" in str(m["To"])]
    assert len(digests) == 2
    assert "Third webinar" in text_of(digests[1]) and "First webinar" not in text_of(digests[1])
    assert digests[1]["Subject"] == "New SEND events: 1"
