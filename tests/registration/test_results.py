"""Post/Redirect/Get (issue 16 item 2): a registration answers 303 to a result page that
carries no secret, a reload of which sends nothing; the JSON door still answers 201."""

from __future__ import annotations

import datetime as dt

import httpx

from events.clock import FrozenClock
from events.db import Database
from events.kit.signing import Signer
from events.web import results
from tests.factories import TEST_SECRET, Factory
from tests.registration.helpers import csrf_token, latest_token, outbox


def _form(csrf: str, email: str = "sam@example.org") -> dict[str, object]:
    return {"csrf_token": csrf, "name": "Sam", "email": email, "consents": ["privacy"]}


async def test_reloading_the_result_page_sends_no_second_email_and_shows_no_secret(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    posted = await client.post(f"/events/{event.slug}/register", data=_form(csrf))
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert posted.headers["referrer-policy"] == "no-referrer"
    assert len(await outbox(database)) == 1
    manage = await latest_token(database, "sam@example.org")
    join = await latest_token(database, "sam@example.org", "join_token")
    calendar = await latest_token(database, "sam@example.org", "calendar_token")
    for _ in range(3):  # the page, then two reloads
        page = await client.get(location)
        assert page.status_code == 200 and "Your place is booked" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        for secret in (manage, join, calendar, "sam@example.org", "/r/"):
            assert secret not in location and secret not in page.text
    assert len(await outbox(database)) == 1, "a reload sends nothing"


async def test_a_double_click_books_once_and_emails_once(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    posts = [
        await client.post(f"/events/{event.slug}/register", data=_form(csrf)) for _ in range(2)
    ]
    assert [p.status_code for p in posts] == [303, 303]
    assert posts[0].headers["location"] == posts[1].headers["location"]
    assert len(await outbox(database)) == 1


async def test_the_waiting_list_number_is_the_one_given(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    for n in range(3):
        posted = await client.post(
            f"/events/{event.slug}/register", data=_form(csrf, f"p{n}@example.org")
        )
    page = await client.get(posted.headers["location"])
    assert "You are on the waiting list" in page.text and "number <strong>2</strong>" in page.text


async def test_an_old_forged_or_misplaced_ticket_shows_an_expired_page(
    client: httpx.AsyncClient, make: Factory, clock: FrozenClock
) -> None:
    event, other = await make.event(capacity=5), await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    location = (await client.post(f"/events/{event.slug}/register", data=_form(csrf))).headers[
        "location"
    ]
    ticket = location.rsplit("/", 1)[1]
    body, mac = ticket.split(".")
    forged = results.issue(
        Signer("another secret " * 3), "registration", [event.id, "confirmed", None], clock.now()
    )
    for path in (
        f"/events/{other.slug}/registered/{ticket}",  # another event's page
        # The MAC's first character changed (its last carries padding bits a decoder drops).
        f"/events/{event.slug}/registered/{body}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}",
        f"/events/{event.slug}/registered/{forged}",
        f"/events/{event.slug}/registered/not-a-ticket",
        f"/events/{event.slug}/registered/" + "A" * 5000,
    ):
        page = await client.get(path)
        assert page.status_code == 404 and "This page has expired" in page.text, path
    assert (await client.get(location)).status_code == 200
    clock.advance(dt.timedelta(seconds=results.TICKET_SECONDS + 1))
    assert (await client.get(location)).status_code == 404


def test_a_ticket_is_for_one_kind_of_page_and_holds_its_facts() -> None:
    signer = Signer(TEST_SECRET)
    now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    ticket = results.issue(signer, "registration", [7, "waitlisted", 3], now)
    assert results.read(signer, "registration", ticket, now) == [7, "waitlisted", 3]
    assert results.read(signer, "series-registration", ticket, now) is None
    later = now + dt.timedelta(seconds=results.TICKET_SECONDS + 1)
    assert results.read(signer, "registration", ticket, later) is None
    assert results.read(signer, "registration", "é.é", now) is None


async def test_the_json_door_still_answers_201(client: httpx.AsyncClient, make: Factory) -> None:
    event = await make.event(capacity=5)
    response = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "Sam", "email": "api@example.org"},
    )
    assert response.status_code == 201
    assert response.json() == {"status": "confirmed", "position": None}


async def test_reloading_the_cancelled_page_cancels_and_sends_nothing_more(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    event = await make.event(capacity=5)
    csrf = await csrf_token(client, f"/events/{event.slug}/register")
    await client.post(f"/events/{event.slug}/register", data=_form(csrf))
    token = await latest_token(database, "sam@example.org")
    assert (await client.get(f"/r/{token}/cancelled")).headers["location"] == f"/r/{token}"
    posted = await client.post(f"/r/{token}/cancel", data={"csrf_token": csrf})
    assert posted.status_code == 303
    sent = len(await outbox(database))
    for _ in range(2):
        page = await client.get(posted.headers["location"])
        assert "Your place is cancelled" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
    assert len(await outbox(database)) == sent


async def test_a_series_result_says_why_a_session_was_not_booked(
    client: httpx.AsyncClient, make: Factory
) -> None:
    series = await make.series("Small group interventions")
    await make.event("Open session", series=series, capacity=5)
    await make.event("Full session", series=series, capacity=0)
    csrf = await csrf_token(client, f"/series/{series.slug}/register")
    page = await client.post(
        f"/series/{series.slug}/register", data=_form(csrf), follow_redirects=True
    )
    assert page.status_code == 200
    assert "Open session" in page.text and "place booked" in page.text
    assert "Full session" in page.text and "not booked. This event is full" in page.text
