"""Calendar data at the edges (issue 13): cancelled events read as cancelled everywhere, no
management link in any calendar data, feeds bounded in time, one ETag per representation."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import icalendar
import pytest
import vobject  # type: ignore[import-untyped]
from starlette.applications import Starlette

from events.app import create_app
from events.catalog.models import Event
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from events.lifecycle import cancel_event
from events.registration.tokens import LinkSet
from tests.calendar.helpers import both_parsers_agree
from tests.factories import TEST_SIGNER, Factory, register
from tests.mail.conftest import SmtpServer, smtp  # noqa: F401 (the fixture)
from tests.mail.helpers import mail_worker
from tests.registration.helpers import latest_token


def _unfolded(body: bytes) -> str:
    return body.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode()


def _read_both(body: bytes) -> dict[str, dict[str, str]]:
    """SUMMARY, STATUS and TRANSP of every VEVENT by UID, read by icalendar and by vobject,
    after checking the two agree."""
    first = {
        str(event["UID"]): {
            "summary": str(event["SUMMARY"]),
            "status": str(event["STATUS"]),
            "transp": str(event["TRANSP"]),
        }
        for event in icalendar.Calendar.from_ical(body).walk("VEVENT")
    }
    parsed = vobject.readOne(body.decode())
    second = {
        str(event.uid.value): {
            "summary": event.summary.value,
            "status": event.status.value,
            "transp": event.transp.value,
        }
        for event in parsed.vevent_list
    }
    assert first == second
    return first


async def _cancel(make: Factory, event: Event) -> None:
    async with unit_of_work(make.database.writer) as session:
        await cancel_event(session, make.clock, await session.merge(event))


CANCELLED = {"status": "CANCELLED", "transp": "TRANSPARENT"}


async def test_cancelled_event_reads_as_cancelled_in_feeds_and_downloads(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("Pay")
    called_off = await make.event("Pay briefing", topics=(topic,))
    going_ahead = await make.event("Workload webinar", topics=(topic,))
    await register(make, called_off, "jo@example.org")
    await register(make, going_ahead, "jo@example.org")
    token = LinkSet.from_manage(
        TEST_SIGNER, await latest_token(make.database, "jo@example.org")
    ).calendar
    await _cancel(make, called_off)

    for path in (
        "/calendar.ics",
        f"/topics/{topic.slug}/calendar.ics",
        f"/c/{token}.ics",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        found = _read_both(response.content)
        assert found[called_off.uid] == {"summary": "Cancelled: Pay briefing", **CANCELLED}
        assert found[going_ahead.uid] == {
            "summary": "Workload webinar",
            "status": "CONFIRMED",
            "transp": "OPAQUE",
        }
    download = await client.get(f"/events/{called_off.slug}.ics")
    assert _read_both(download.content) == {
        called_off.uid: {"summary": "Cancelled: Pay briefing", **CANCELLED}
    }


async def test_no_management_link_in_the_invite_the_private_feed_or_downloads(
    make: Factory,
    client: httpx.AsyncClient,
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """The link that can cancel a place is in the email body only, never in calendar data
    (invites get forwarded, feeds shared): checked in every property, unfolded."""
    event = await make.event("Pay briefing")
    await register(make, event, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    token = LinkSet.from_manage(TEST_SIGNER, manage).calendar

    await mail_worker(database, clock, settings, smtp.url).drain()
    [message] = [r.message for r in smtp.recorder.received]
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None and f"/r/{manage}" in body.get_content()
    calendars = [
        part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "text/calendar" or part.get_filename() == "invite.ics"
    ]
    assert len(calendars) == 2
    feed = await client.get(f"/c/{token}.ics")
    download = await client.get(f"/events/{event.slug}.ics")
    listing = await client.get("/calendar.ics")
    for ics in [*calendars, feed.content, download.content, listing.content]:
        assert isinstance(ics, bytes)
        assert event.uid in both_parsers_agree(ics)
        text = _unfolded(ics)
        assert manage not in text and "/r/" not in text
        for vevent in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
            for name, value in vevent.property_items():
                assert "/r/" not in str(value), name
    # What the calendar data does link: the public page, and the personal joining link in
    # the person's own copies.
    assert f"http://testserver/events/{event.slug}" in _unfolded(feed.content)
    assert f"/c/{token}/{event.id}/join" in _unfolded(feed.content)


@pytest.fixture
async def short_window_client(
    settings: Settings, clock: FrozenClock, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(
        settings.model_copy(update={"feed_past_days": 30}), clock=clock, database=database
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_feeds_drop_events_older_than_the_configured_window(
    client: httpx.AsyncClient, short_window_client: httpx.AsyncClient, make: Factory
) -> None:
    assert Settings(env="test").feed_past_days == 365
    # Places are taken while every event is ahead, then time moves on.
    later = make.clock.now() + dt.timedelta(days=800)
    future = await make.event("Future", starts_at=later + dt.timedelta(days=7))
    last_month = await make.event("Last month", starts_at=later - dt.timedelta(days=20))
    last_spring = await make.event("Last spring", starts_at=later - dt.timedelta(days=200))
    two_years = await make.event("Two years ago", starts_at=later - dt.timedelta(days=730))
    for event in (future, last_month, last_spring, two_years):
        await register(make, event, "jo@example.org")
    token = LinkSet.from_manage(
        TEST_SIGNER, await latest_token(make.database, "jo@example.org")
    ).calendar
    make.clock.set(later)

    for path in ("/calendar.ics", f"/c/{token}.ics"):
        default = await client.get(path)
        assert set(both_parsers_agree(default.content)) == {
            future.uid,
            last_month.uid,
            last_spring.uid,
        }, path
        short = await short_window_client.get(path)
        assert set(both_parsers_agree(short.content)) == {future.uid, last_month.uid}, path
    # An event page and its download stay, however old.
    assert (await client.get(f"/events/{two_years.slug}.ics")).status_code == 200


async def test_gzip_and_identity_representations_never_share_an_etag(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event()
    plain = await client.get("/calendar.ics", headers={"accept-encoding": "identity"})
    zipped = await client.get("/calendar.ics", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    plain_tag, zipped_tag = plain.headers["etag"], zipped.headers["etag"]
    assert plain_tag != zipped_tag
    assert not plain_tag.startswith("W/") and not zipped_tag.startswith("W/")
    # A validator revalidates only its own representation.
    for encoding, tag, other in (
        ("identity", plain_tag, zipped_tag),
        ("gzip", zipped_tag, plain_tag),
    ):
        same = await client.get(
            "/calendar.ics", headers={"accept-encoding": encoding, "if-none-match": tag}
        )
        assert same.status_code == 304 and same.headers["etag"] == tag
        assert same.headers["vary"] == "Accept-Encoding"
        crossed = await client.get(
            "/calendar.ics", headers={"accept-encoding": encoding, "if-none-match": other}
        )
        assert crossed.status_code == 200 and crossed.headers["etag"] == tag
    assert zipped.content == plain.content  # httpx decoded the gzip
