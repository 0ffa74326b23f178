"""The private feed ``/c/{token}.ics`` (issue 13 items 5, 7, 8, 9): who gets a joining link
and a CONFERENCE property, conditional requests, and what is left after erasure."""

from __future__ import annotations

import datetime as dt

import httpx
import icalendar
import vobject  # type: ignore[import-untyped]
from sqlalchemy import func, select

from events.audit.service import SYSTEM
from events.catalog.models import Event, EventFormat
from events.db import unit_of_work
from events.kit.signing import Purpose
from events.lifecycle import cancel_event
from events.privacy import service as privacy
from events.registration import service as registration_service
from events.registration.models import RegistrationToken, RetiredCalendarLink, TokenPurpose
from events.registration.tokens import LinkSet
from tests.calendar.helpers import both_parsers_agree, unfolded_lines
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import latest_token

SECRET_ROOM = "secret-room-123"
EMAIL = "jo@example.org"


async def _calendar_token(make: Factory, email: str = EMAIL) -> str:
    return LinkSet.from_manage(TEST_SIGNER, await latest_token(make.database, email)).calendar


def _vevents(body: bytes) -> dict[str, icalendar.cal.Component]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def _conference_lines(body: bytes) -> list[str]:
    return [line for line in unfolded_lines(body) if line.startswith("CONFERENCE")]


async def _cancel(make: Factory, event: Event) -> None:
    async with unit_of_work(make.database.writer) as session:
        await cancel_event(session, make.clock, await session.merge(event))


# ------------------------------------------------------------------ item 7 and item 5


async def test_joining_link_and_conference_only_for_online_and_hybrid_events_that_are_on(
    client: httpx.AsyncClient, make: Factory
) -> None:
    online = await make.event("Online")
    hybrid = await make.event(
        "Hybrid", format=EventFormat.hybrid, venue_name="Hamilton House", town="London"
    )
    # A link left behind when the format changed to in person must not reach anyone.
    in_person = await make.event(
        "In person", format=EventFormat.in_person, venue_name="Hamilton House", town="London"
    )
    called_off = await make.event("Called off")
    for event in (online, hybrid, in_person, called_off):
        await register(make, event, EMAIL)
    token = await _calendar_token(make)
    await _cancel(make, called_off)

    response = await client.get(f"/c/{token}.ics")
    assert response.status_code == 200
    body = response.content
    both_parsers_agree(body)
    found = _vevents(body)
    assert set(found) == {online.uid, hybrid.uid, in_person.uid, called_off.uid}
    base = f"http://testserver/c/{token}"
    for event in (online, hybrid):
        vevent = found[event.uid]
        join = f"{base}/{event.id}/join"
        assert join in str(vevent["DESCRIPTION"]), event.title
        conference = vevent["CONFERENCE"]
        assert str(conference) == join
        assert conference.params["VALUE"] == "URI"
        assert conference.params["FEATURE"] == "VIDEO"
        assert conference.params["LABEL"].startswith("Join")
    assert str(found[hybrid.uid]["LOCATION"]).startswith("Hamilton House")
    for event in (in_person, called_off):
        vevent = found[event.uid]
        assert "CONFERENCE" not in vevent, event.title
        assert f"/{event.id}/join" not in body.decode(), event.title
    assert len(_conference_lines(body)) == 2
    # vobject reads the CONFERENCE properties too.
    parsed = vobject.readOne(body.decode())
    conferences = [v.conference.value for v in parsed.vevent_list if hasattr(v, "conference")]
    assert sorted(conferences) == sorted(f"{base}/{e.id}/join" for e in (online, hybrid))
    assert SECRET_ROOM not in response.text

    # Even at the start, the private feed's redirect does not lead anywhere for them.
    make.clock.set(in_person.starts_at - dt.timedelta(minutes=5))
    page = await client.get(f"{base}/{in_person.id}/join")
    assert page.status_code == 200
    assert SECRET_ROOM not in page.text and "in person" in page.text
    opened = await client.get(f"{base}/{online.id}/join")
    assert opened.status_code == 303 and SECRET_ROOM in opened.headers["location"]


async def test_the_join_page_never_redirects_for_an_in_person_event(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(
        "In person", format=EventFormat.in_person, venue_name="Hamilton House", town="London"
    )
    await register(make, event, EMAIL)
    join = await latest_token(make.database, EMAIL, key="join_token")
    make.clock.set(event.starts_at - dt.timedelta(minutes=5))
    response = await client.get(f"/j/{join}")
    assert response.status_code == 200
    assert SECRET_ROOM not in response.text
    assert "takes place in person" in response.text


async def test_public_feeds_and_downloads_never_carry_a_conference(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Online", format=EventFormat.hybrid, venue_name="Hall")
    await register(make, event, EMAIL)
    for path in ("/calendar.ics", f"/events/{event.slug}.ics"):
        response = await client.get(path)
        assert response.status_code == 200
        assert event.uid in response.text
        assert _conference_lines(response.content) == [], path
        assert "/join" not in response.text and "/j/" not in response.text


# -------------------------------------------------------------------------- item 8


async def test_private_feed_answers_if_none_match_and_stays_out_of_shared_caches(
    client: httpx.AsyncClient, make: Factory
) -> None:
    kept = await make.event("Kept")
    dropped = await make.event("Dropped")
    await register(make, kept, EMAIL)
    await register(make, dropped, EMAIL)
    dropped_manage = await latest_token(make.database, EMAIL)
    token = await _calendar_token(make)
    path = f"/c/{token}.ics"

    first = await client.get(path, headers={"accept-encoding": "identity"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "private, no-cache"
    assert "last-modified" not in first.headers
    assert first.headers["vary"] == "Accept-Encoding"
    assert first.headers["x-robots-tag"] == "noindex"

    again = await client.get(path, headers={"accept-encoding": "identity", "if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, no-cache"

    # The gzip representation has its own strong tag: the identity one does not validate it.
    zipped = await client.get(path, headers={"accept-encoding": "gzip", "if-none-match": etag})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] != etag
    assert zipped.content == first.content  # httpx decoded it
    zipped_again = await client.get(
        path, headers={"accept-encoding": "gzip", "if-none-match": zipped.headers["etag"]}
    )
    assert zipped_again.status_code == 304
    crossed = await client.get(
        path, headers={"accept-encoding": "identity", "if-none-match": zipped.headers["etag"]}
    )
    assert crossed.status_code == 200

    # A place cancelled changes the calendar, so the old tag no longer matches.
    async with unit_of_work(make.database.writer) as session:
        await registration_service.cancel(
            session, make.clock, token=dropped_manage, signer=TEST_SIGNER
        )
    after = await client.get(path, headers={"accept-encoding": "identity", "if-none-match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert set(both_parsers_agree(after.content)) == {kept.uid}


# -------------------------------------------------------------------------- item 9


def _assert_valid_and_empty(body: bytes) -> None:
    """No events, by both parsers, but still one component (RFC 5545 3.6)."""
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    parsed = vobject.readOne(body.decode())
    assert not hasattr(parsed, "vevent")
    assert parsed.vtimezone.tzid.value == "Europe/London"
    assert parsed.x_wr_calname.value == "My union events"


async def test_after_erasure_the_feed_is_an_empty_calendar_and_keeps_only_the_links_hash(
    client: httpx.AsyncClient, make: Factory
) -> None:
    first = await make.event("First")
    second = await make.event("Second")
    await register(make, first, EMAIL)
    first_token = await _calendar_token(make)
    await register(make, second, EMAIL)
    second_token = await _calendar_token(make)
    before = await client.get(f"/c/{first_token}.ics")
    assert set(both_parsers_agree(before.content)) == {first.uid, second.uid}

    async with unit_of_work(make.database.writer) as session:
        await privacy.erase_email(
            session, make.clock, email=EMAIL, signer=TEST_SIGNER, actor=SYSTEM
        )

    for token in (first_token, second_token):
        response = await client.get(f"/c/{token}.ics")
        assert response.status_code == 200, "an error would leave the last copy showing"
        _assert_valid_and_empty(response.content)
        assert EMAIL not in response.text and "Sam Teacher" not in response.text
        assert response.headers["cache-control"] == "private, no-cache"
        # Nothing to join any more.
        join = await client.get(f"/c/{token}/{first.id}/join")
        assert join.status_code == 404

    async with unit_of_work(make.database.reader) as session:
        retired = set((await session.execute(select(RetiredCalendarLink.token_hash))).scalars())
        left = await session.scalar(
            select(func.count(RegistrationToken.id)).where(
                RegistrationToken.purpose == TokenPurpose.calendar
            )
        )
    assert retired == {
        TEST_SIGNER.hash_token(Purpose.CALENDAR, t) for t in (first_token, second_token)
    }
    assert left == 0
    # Only the hash: the table has no other column to hold anything personal.
    assert [c.name for c in RetiredCalendarLink.__table__.columns] == ["token_hash"]
    # A link that never existed is still the 404 it always was.
    assert (await client.get(f"/c/{'x' * 43}.ics")).status_code == 404


async def test_when_every_place_is_cancelled_the_feed_is_a_valid_empty_calendar(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Only one")
    await register(make, event, EMAIL)
    manage = await latest_token(make.database, EMAIL)
    token = await _calendar_token(make)
    async with unit_of_work(make.database.writer) as session:
        await registration_service.cancel(session, make.clock, token=manage, signer=TEST_SIGNER)
    response = await client.get(f"/c/{token}.ics")
    assert response.status_code == 200
    _assert_valid_and_empty(response.content)


async def test_after_retention_erases_a_registration_its_feed_link_is_an_empty_calendar(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event("Long ago")
    await register(make, event, EMAIL)
    token = await _calendar_token(make)
    make.clock.set(event.ends_at + dt.timedelta(days=800))
    async with unit_of_work(make.database.writer) as session:
        done = await privacy.purge_expired(
            session, make.clock, access_days=30, registration_days=730
        )
    assert done.registrations_erased == 1
    response = await client.get(f"/c/{token}.ics")
    assert response.status_code == 200
    _assert_valid_and_empty(response.content)
