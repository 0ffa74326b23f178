"""Probing: another organiser's event, its registrations and its exports answer 404 on
every attendance route, GET and POST, whatever ID is tried, and nothing changes; a
registration id from another event is 404 too; a POST without its CSRF token is 403 and
changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from events.audit.models import AuditEntry
from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database
from events.mail.models import OutboxMessage
from events.organiser.models import Organiser, OrganiserRole
from tests.factories import Factory, register
from tests.organiser.helpers import give_event, new_organiser, share_event
from tests.organiser.test_attendance import signed_in_client
from tests.registration.helpers import csrf_token, registrations

GET_PAGES = [
    "registrations",
    "registrations?q=a&status=confirmed&sort=-name&page=2",
    "registrations/new",
    "registrations/{rid}/move",
    "registrations/{rid}/confirm",
    "registrations/{rid}/cancel",
    "registrations.csv",
    "registrations.xlsx",
    "attendance/import",
    "message",
    "mail",
    "sign-in-sheet",
]

ZOOM = b"Name (Original Name),User Email,Join Time\nA,a@example.org,now\n"


def _posts(rid: int) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    return [
        ("registrations/attended", {"ids": [str(rid)], "attended": "yes"}, None),
        ("registrations/attended", {"one": f"{rid}:yes"}, None),
        (
            "registrations/new",
            {"name": "Intruder", "email": "intruder@example.org", "consents": "privacy"},
            None,
        ),
        (f"registrations/{rid}/move", {}, None),
        (f"registrations/{rid}/confirm", {}, None),
        (f"registrations/{rid}/cancel", {}, None),
        ("attendance/import", {}, {"file": ("zoom.csv", ZOOM, "text/csv")}),
        (
            "message",
            {"subject": "Hi", "body": "Spam", "audience": "confirmed", "step": "send"},
            None,
        ),
        (
            "message",
            {"subject": "Hi", "body": "Spam", "audience": "waitlisted", "step": "send"},
            None,
        ),
    ]


async def _snapshot(database: Database) -> tuple[Any, ...]:
    async with database.reader() as session:
        outbox = (await session.execute(select(func.count(OutboxMessage.id)))).scalar_one()
        audit = (await session.execute(select(func.count(AuditEntry.id)))).scalar_one()
    return outbox, audit


async def _state(database: Database, event: Event) -> list[tuple[Any, ...]]:
    return [
        (r.id, r.email, r.status, r.attended, r.waiting_list_number)
        for r in await registrations(database, event.id)
    ]


@pytest.fixture
async def victim(make: Factory, database: Database, clock: FrozenClock) -> Event:
    """Organiser A's event: one confirmed (a), one waiting (w)."""
    owner = await new_organiser(database, clock)
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(database, event, owner)
    await register(make, event, "a@example.org")
    await register(make, event, "w@example.org")
    return event


async def test_another_organisers_event_is_404_on_every_route_and_nothing_changes(
    make: Factory,
    database: Database,
    organiser: Organiser,
    victim: Event,
    console: httpx.AsyncClient,
) -> None:
    own = await make.event()
    await give_event(database, own, organiser)
    token = await csrf_token(console, f"/organiser/events/{own.slug}/registrations")
    rows = await registrations(database, victim.id)
    before = (await _state(database, victim), await _snapshot(database))
    missing = await console.get("/organiser/events/no-such-event/registrations")
    assert missing.status_code == 404

    for rid in (r.id for r in rows):
        for page in GET_PAGES:
            response = await console.get(f"/organiser/events/{victim.slug}/{page.format(rid=rid)}")
            assert response.status_code == 404, page
            assert "a@example.org" not in response.text
        for path, data, files in _posts(rid):
            response = await console.post(
                f"/organiser/events/{victim.slug}/{path}",
                data={"csrf_token": token, **data},
                files=files,
            )
            assert response.status_code == 404, path
    same = await console.get(f"/organiser/events/{victim.slug}/registrations")
    assert same.text == missing.text  # indistinguishable from an event that does not exist
    assert (await _state(database, victim), await _snapshot(database)) == before


async def test_registration_ids_of_another_event_are_404_and_change_nothing(
    make: Factory,
    database: Database,
    organiser: Organiser,
    victim: Event,
    console: httpx.AsyncClient,
) -> None:
    # Started, so that marking attendance is open: the victim's ids are what is refused.
    own = await make.event(
        capacity=5,
        waiting_list_enabled=True,
        starts_at=make.clock.now() - dt.timedelta(minutes=10),
    )
    await give_event(database, own, organiser)
    token = await csrf_token(console, f"/organiser/events/{own.slug}/registrations")
    before = (await _state(database, victim), await _snapshot(database))
    for r in await registrations(database, victim.id):
        for action in ("move", "confirm", "cancel"):
            path = f"/organiser/events/{own.slug}/registrations/{r.id}/{action}"
            assert (await console.get(path)).status_code == 404
            posted = await console.post(path, data={"csrf_token": token})
            assert posted.status_code == 404
        marked = await console.post(
            f"/organiser/events/{own.slug}/registrations/attended",
            data={"csrf_token": token, "ids": [str(r.id)], "attended": "yes"},
        )
        assert marked.status_code == 303 and "n=0" in marked.headers["location"]
    unknown = f"/organiser/events/{own.slug}/registrations/999999/cancel"
    assert (await console.get(unknown)).status_code == 404
    nonsense = f"/organiser/events/{own.slug}/registrations/1/delete-everything"
    assert (await console.get(nonsense)).status_code == 404
    assert (await _state(database, victim), await _snapshot(database)) == before


async def test_shared_organisers_and_admins_can_use_the_pages(
    app: Starlette,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    victim: Event,
    console: httpx.AsyncClient,
) -> None:
    await share_event(database, victim, organiser)
    admin = await new_organiser(database, clock, role=OrganiserRole.admin)
    async with await signed_in_client(app, database, clock, admin) as admin_console:
        for client in (console, admin_console):
            for page in GET_PAGES:
                rid = (await registrations(database, victim.id))[1].id
                response = await client.get(
                    f"/organiser/events/{victim.slug}/{page.format(rid=rid)}"
                )
                assert response.status_code == 200, page


async def test_signed_out_visitors_are_sent_to_login_or_refused(
    app: Starlette, victim: Event
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon:
        page = await anon.get(f"/organiser/events/{victim.slug}/registrations.csv")
        assert page.status_code == 303 and "/organiser/login" in page.headers["location"]
        posted = await anon.post(f"/organiser/events/{victim.slug}/registrations/attended")
        assert posted.status_code in (401, 403)


async def test_posts_without_a_csrf_token_are_403_and_change_nothing(
    database: Database,
    organiser: Organiser,
    victim: Event,
    console: httpx.AsyncClient,
) -> None:
    await give_event(database, victim, organiser)
    await csrf_token(console, f"/organiser/events/{victim.slug}/registrations")  # has a cookie
    before = (await _state(database, victim), await _snapshot(database))
    for r in await registrations(database, victim.id):
        for path, data, files in _posts(r.id):
            for token in ({}, {"csrf_token": "forged"}):
                response = await console.post(
                    f"/organiser/events/{victim.slug}/{path}", data={**token, **data}, files=files
                )
                assert response.status_code == 403, path
    assert (await _state(database, victim), await _snapshot(database)) == before
