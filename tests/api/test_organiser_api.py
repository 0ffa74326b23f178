"""The organiser write API: token auth, events, registrations, attendance, permissions, and
every answer checked against the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from events.audit.models import ActorKind, AuditEntry
from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser import auth
from events.organiser.models import ApiToken, Organiser, OrganiserRole
from events.registration.models import RegistrationStatus
from tests.api.test_openapi import fetch_document, resolve
from tests.factories import TEST_SIGNER, Factory, register
from tests.organiser.helpers import give_event, new_organiser, share_event, sign_in
from tests.registration.helpers import by_status, outbox, registrations

API = "/api/v1/organiser"
LONDON_SUMMER = "+01:00"


async def token_for(database: Database, clock: FrozenClock, organiser: Organiser) -> str:
    async with unit_of_work(database.writer) as session:
        merged = await session.merge(organiser, load=False)
        made = await auth.create_api_token(session, clock, merged, name="CRM", signer=TEST_SIGNER)
    return made.token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def owner(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock)


@pytest.fixture
async def other(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock)


@pytest.fixture
async def owner_token(database: Database, clock: FrozenClock, owner: Organiser) -> str:
    return await token_for(database, clock, owner)


@pytest.fixture
async def other_token(database: Database, clock: FrozenClock, other: Organiser) -> str:
    return await token_for(database, clock, other)


class Checked:
    """A client that checks every answer against the OpenAPI document's schema for that
    operation and status (and that the status is documented at all)."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.headers = bearer(token) if token else {}
        self.document: dict[str, Any] | None = None

    async def call(
        self, method: str, template: str, *, json: Any = None, **params: Any
    ) -> httpx.Response:
        if self.document is None:
            self.document = await fetch_document(self.client)
        path = API + template.format(**params.pop("path", {}))
        response = await self.client.request(
            method, path, json=json, headers=self.headers, params=params or None
        )
        self.validate(method, API + template, response)
        return response

    def validate(self, method: str, template: str, response: httpx.Response) -> None:
        from jsonschema import Draft202012Validator

        assert self.document is not None
        operation = self.document["paths"]["/api/v1" + template[len("/api/v1") :]][method.lower()]
        documented = operation["responses"]
        assert str(response.status_code) in documented, (
            f"{method} {template} answered {response.status_code}, not documented"
        )
        if response.is_success:
            assert response.headers["cache-control"] == "no-store"
        entry = resolve(self.document, documented[str(response.status_code)])
        schema = entry["content"]["application/json"]["schema"]
        validator = Draft202012Validator(
            {"allOf": [schema], "components": self.document["components"]}
        )
        validator.validate(response.json())


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Workload briefing",
        "kind": "webinar",
        "format": "online",
        "starts_at": "2026-06-10T16:00:00+01:00",
        "ends_at": "2026-06-10T17:00:00+01:00",
        "joining_url": "https://meet.example.org/room-42",
        "capacity": 30,
    }
    body.update(overrides)
    return body


async def count_events(database: Database) -> int:
    async with database.reader() as session:
        return int((await session.execute(select(func.count(Event.id)))).scalar_one())


# Authentication --------------------------------------------------------------------------


async def test_write_api_refuses_missing_wrong_revoked_and_cookie_only_callers(
    client: httpx.AsyncClient,
    app: Any,
    database: Database,
    clock: FrozenClock,
    owner: Organiser,
    owner_token: str,
) -> None:
    before = await count_events(database)
    nobody = Checked(client, None)
    missing = await nobody.call("POST", "/events", json=event_body())
    assert missing.status_code == 401
    assert missing.json()["code"] == "api_token_required"
    assert missing.headers["www-authenticate"].startswith("Bearer")

    wrong = await Checked(client, "evt_" + "x" * 40).call("POST", "/events", json=event_body())
    assert wrong.status_code == 401

    # Signed in to the console, but no token: the cookie alone is refused.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await sign_in(browser, database, clock, owner)
        by_cookie = await Checked(browser, None).call("POST", "/events", json=event_body())
        assert by_cookie.status_code == 401

    works = await Checked(client, owner_token).call("POST", "/events", json=event_body())
    assert works.status_code == 201
    async with unit_of_work(database.writer) as session:
        row = (
            await session.execute(select(ApiToken).where(ApiToken.organiser_id == owner.id))
        ).scalar_one()
        await auth.revoke_api_token(
            session, clock, await session.merge(owner, load=False), token_id=row.id
        )
    revoked = await Checked(client, owner_token).call("POST", "/events", json=event_body())
    assert revoked.status_code == 401
    assert await count_events(database) == before + 1


# Events ----------------------------------------------------------------------------------


async def test_create_event_makes_a_draft_owned_by_the_caller_and_audited_as_api(
    client: httpx.AsyncClient, database: Database, owner: Organiser, owner_token: str
) -> None:
    api = Checked(client, owner_token)
    created = await api.call("POST", "/events", json=event_body())
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["slug"] == "workload-briefing"
    assert body["starts_at"] == "2026-06-10T16:00:00" + LONDON_SUMMER
    assert body["joining_url"] == "https://meet.example.org/room-42"
    assert body["organiser_email"] == owner.email
    # A draft: not on the public API, but the owner reads it back.
    assert (await client.get("/api/v1/events/workload-briefing")).status_code == 404
    again = await api.call("GET", "/events/{slug}", path={"slug": "workload-briefing"})
    assert again.status_code == 200 and again.json() == body
    async with database.reader() as session:
        event = (
            await session.execute(select(Event).where(Event.slug == "workload-briefing"))
        ).scalar_one()
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.event_id == event.id))
        ).scalar_one()
    assert event.owner_id == owner.id
    assert entry.actor_kind == ActorKind.api and entry.organiser_id == owner.id


async def test_create_event_published_at_once_is_public_without_its_joining_link(
    client: httpx.AsyncClient, owner_token: str
) -> None:
    created = await Checked(client, owner_token).call(
        "POST", "/events", json=event_body(publish=True, slug="pay-webinar")
    )
    assert created.status_code == 201 and created.json()["status"] == "published"
    public = await client.get("/api/v1/events/pay-webinar")
    assert public.status_code == 200
    assert "room-42" not in public.text and "joining_url" not in public.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "2026-06-10T16:00:00"}, "starts_at"),
        ({"ends_at": "2026-06-10T15:00:00+01:00"}, "ends_at"),
        ({"joining_url": "http://meet.example.org/x"}, "joining_url"),
        ({"capacity": -1}, "capacity"),
        ({"topics": ["no-such-topic"]}, "topics"),
        ({"region": "atlantis"}, "region"),
        ({"kind": "party"}, "kind"),
        ({"title": ""}, "title"),
        ({"colour": "red"}, "colour"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"reminder_offsets": [0]}, "reminder_offsets"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
async def test_create_event_refuses_bad_fields_with_422_naming_them_and_creates_nothing(
    client: httpx.AsyncClient,
    database: Database,
    owner_token: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    before = await count_events(database)
    refused = await Checked(client, owner_token).call("POST", "/events", json=event_body(**changes))
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["fields"], refused.json()
    assert await count_events(database) == before


async def test_create_event_needs_a_json_object(
    client: httpx.AsyncClient, owner_token: str
) -> None:
    api = Checked(client, owner_token)
    await api.call("GET", "/events/{slug}", path={"slug": "x"})  # loads the document
    headers = bearer(owner_token)
    not_json = await client.post(
        f"{API}/events", content=b"{", headers={**headers, "content-type": "application/json"}
    )
    api.validate("POST", API + "/events", not_json)
    assert not_json.status_code == 400 and not_json.json()["code"] == "invalid_json"
    as_form = await client.post(f"{API}/events", data={"title": "x"}, headers=headers)
    api.validate("POST", API + "/events", as_form)
    assert as_form.status_code == 415
    a_list = await api.call("POST", "/events", json=[1, 2])
    assert a_list.status_code == 422 and "body" in a_list.json()["fields"]


async def test_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    topic = await make.topic("Pay")
    event = await make.event("Original", capacity=10, topics=(topic,))
    await give_event(make.database, event, owner)
    api = Checked(client, owner_token)
    before = (await api.call("GET", "/events/{slug}", path={"slug": event.slug})).json()
    changed = await api.call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"title": "Renamed"}
    )
    assert changed.status_code == 200
    after = changed.json()
    assert after["title"] == "Renamed"
    for name in ("starts_at", "ends_at", "capacity", "topics", "joining_url"):
        assert after[name] == before[name], name
    # The title shows in calendar invites (issue 13 item 3).
    assert after["ical_sequence"] == before["ical_sequence"] + 1
    cleared = await api.call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"capacity": None}
    )
    assert cleared.json()["capacity"] is None
    refused = await api.call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"title": None}
    )
    assert refused.status_code == 422 and "title" in refused.json()["fields"]


async def test_patch_reschedule_raises_the_sequence_and_emails_each_confirmed_registrant(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event("Moving")
    await give_event(make.database, event, owner)
    await register(make, event, "jo@example.org")
    await register(make, event, "sam@example.org")
    later = event.starts_at + dt.timedelta(days=1)
    moved = await Checked(client, owner_token).call(
        "PATCH",
        "/events/{slug}",
        path={"slug": event.slug},
        json={
            "starts_at": later.isoformat(),
            "ends_at": (later + dt.timedelta(hours=1)).isoformat(),
        },
    )
    assert moved.status_code == 200
    assert moved.json()["ical_sequence"] == event.ical_sequence + 1
    updates = await outbox(make.database, "event_updated")
    assert sorted(m.recipient for m in updates) == ["jo@example.org", "sam@example.org"]
    feed = await client.get(f"/events/{event.slug}.ics")
    assert "SEQUENCE:1" in feed.text


async def test_patch_of_the_summary_updates_calendars_and_of_members_only_sends_nothing(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    """Issue 13 item 3 through the write API: the summary shows in the invite, so each
    confirmed place is sent the update at SEQUENCE + 1; members_only does not."""
    event = await make.event("Summarised", capacity=1, waiting_list_enabled=True)
    await give_event(make.database, event, owner)
    await register(make, event, "jo@example.org")
    await register(make, event, "waiting@example.org")
    api = Checked(client, owner_token)
    changed = await api.call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"summary": "Bring a laptop."}
    )
    assert changed.status_code == 200
    assert changed.json()["ical_sequence"] == event.ical_sequence + 1
    [update] = await outbox(make.database, "event_updated")
    assert update.recipient == "jo@example.org" and update.payload["changed"] == ["summary"]
    assert update.payload["sequence"] == event.ical_sequence + 1
    # Not a move: the waiting list hears nothing.
    assert await outbox(make.database, "waitlist_moved") == []
    hidden = await api.call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"members_only": True}
    )
    assert hidden.status_code == 200 and hidden.json()["members_only"] is True
    assert hidden.json()["ical_sequence"] == event.ical_sequence + 1
    assert len(await outbox(make.database, "event_updated")) == 1


async def test_patch_capacity_rise_promotes_the_waiting_list(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(make.database, event, owner)
    await register(make, event, "first@example.org")
    await register(make, event, "second@example.org")
    raised = await Checked(client, owner_token).call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"capacity": 2}
    )
    assert raised.status_code == 200 and raised.json()["places_left"] == 0
    confirmed = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    assert len(confirmed) == 2


async def test_patch_of_a_cancelled_event_is_a_conflict(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    from events.lifecycle import cancel_event

    event = await make.event()
    async with unit_of_work(make.database.writer) as session:
        await cancel_event(session, make.clock, await session.merge(event))
    await give_event(make.database, event, owner)
    refused = await Checked(client, owner_token).call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"title": "Back on"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "event_cancelled"


# Registrations and attendance ----------------------------------------------------------


async def test_list_registrations_pages_and_filters_by_status(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event(capacity=3, waiting_list_enabled=True)
    await give_event(make.database, event, owner)
    for n in range(5):
        await register(make, event, f"person{n}@example.org")
    api = Checked(client, owner_token)
    first = await api.call(
        "GET", "/events/{slug}/registrations", path={"slug": event.slug}, per_page=2
    )
    assert first.status_code == 200
    page = first.json()
    assert page["total"] == 5 and page["pages"] == 3 and len(page["items"]) == 2
    assert page["previous"] is None and page["next"]
    emails = [item["email"] for item in page["items"]]
    following = await client.get(page["next"], headers=bearer(owner_token))
    api.validate("GET", API + "/events/{slug}/registrations", following)
    emails += [item["email"] for item in following.json()["items"]]
    assert emails == [f"person{n}@example.org" for n in range(4)]
    waiting = await api.call(
        "GET", "/events/{slug}/registrations", path={"slug": event.slug}, status="waitlisted"
    )
    assert [item["waiting_list_number"] for item in waiting.json()["items"]] == [1, 2]
    bad = await api.call(
        "GET", "/events/{slug}/registrations", path={"slug": event.slug}, status="maybe"
    )
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"status"}


async def test_add_registration_gives_a_place_then_the_same_one_again_and_respects_capacity(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=False)
    await give_event(make.database, event, owner)
    api = Checked(client, owner_token)
    path = {"slug": event.slug}
    person = {"name": "Walk In", "email": "Walk.In@example.org ", "consents": ["privacy"]}
    added = await api.call("POST", "/events/{slug}/registrations", path=path, json=person)
    assert added.status_code == 201
    assert added.json()["status"] == "confirmed" and added.json()["email"] == "walk.in@example.org"
    again = await api.call("POST", "/events/{slug}/registrations", path=path, json=person)
    assert again.status_code == 200 and again.json()["id"] == added.json()["id"]
    full = await api.call(
        "POST",
        "/events/{slug}/registrations",
        path=path,
        json={"name": "Late", "email": "late@example.org", "status": "confirmed"},
    )
    assert full.status_code == 409
    invalid = await api.call(
        "POST", "/events/{slug}/registrations", path=path, json={"name": "", "email": "nope"}
    )
    assert invalid.status_code == 422 and {"name", "email"} <= set(invalid.json()["fields"])
    odd = await api.call(
        "POST",
        "/events/{slug}/registrations",
        path=path,
        json={**person, "email": "x@example.org", "status": "vip"},
    )
    assert odd.status_code == 422 and "status" in odd.json()["fields"]
    confirmed = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    assert [r.email for r in confirmed] == ["walk.in@example.org"]


async def test_cancel_registration_frees_the_place_for_the_first_waiting(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(make.database, event, owner)
    await register(make, event, "first@example.org")
    await register(make, event, "second@example.org")
    (first,) = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    api = Checked(client, owner_token)
    path = {"slug": event.slug, "registration_id": first.id}
    cancelled = await api.call(
        "POST", "/events/{slug}/registrations/{registration_id}/cancel", path=path
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    (promoted,) = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    assert promoted.email == "second@example.org"
    twice = await api.call(
        "POST", "/events/{slug}/registrations/{registration_id}/cancel", path=path
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_cancelled"


async def test_mark_attendance_changes_only_this_events_registrations(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event()
    elsewhere = await make.event()
    await give_event(make.database, event, owner)
    await give_event(make.database, elsewhere, owner)
    await register(make, event, "a@example.org")
    await register(make, event, "b@example.org")
    await register(make, elsewhere, "c@example.org")
    mine = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    (foreign,) = await by_status(make.database, elsewhere.id, RegistrationStatus.confirmed)
    api = Checked(client, owner_token)
    make.clock.advance(dt.timedelta(days=8))  # both events have started
    marked = await api.call(
        "POST",
        "/events/{slug}/attendance",
        path={"slug": event.slug},
        json={"registration_ids": [r.id for r in mine] + [foreign.id], "attended": True},
    )
    assert marked.status_code == 200 and marked.json() == {"changed": 2}
    again = await api.call(
        "POST",
        "/events/{slug}/attendance",
        path={"slug": event.slug},
        json={"registration_ids": [mine[0].id]},
    )
    assert again.json() == {"changed": 0}
    (untouched,) = await by_status(make.database, elsewhere.id, RegistrationStatus.confirmed)
    assert untouched.attended is False


async def test_marking_attended_is_refused_before_the_start_and_for_anyone_not_confirmed(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(make.database, event, owner)
    await register(make, event, "in@example.org", name="Ina Place")
    await register(make, event, "wait@example.org", name="Walt Waiting")
    (confirmed,) = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    (waiting,) = await by_status(make.database, event.id, RegistrationStatus.waitlisted)
    api = Checked(client, owner_token)

    async def mark(*ids: int, attended: bool = True) -> httpx.Response:
        return await api.call(
            "POST",
            "/events/{slug}/attendance",
            path={"slug": event.slug},
            json={"registration_ids": list(ids), "attended": attended},
        )

    early = await mark(confirmed.id)
    assert early.status_code == 409 and early.json()["code"] == "event_not_started"
    assert "has not started yet" in early.json()["message"]
    make.clock.advance(dt.timedelta(days=7, minutes=1))
    mixed = await mark(confirmed.id, waiting.id)
    assert mixed.status_code == 409 and mixed.json()["code"] == "not_confirmed"
    message = mixed.json()["message"]
    assert f"Walt Waiting (registration {waiting.id}) is on the waiting list" in message
    assert "Ina Place" not in message
    assert [r.attended for r in await registrations(make.database, event.id)] == [False, False]
    fine = await mark(confirmed.id)
    assert fine.status_code == 200 and fine.json() == {"changed": 1}
    # Taking it back is always allowed.
    undone = await mark(confirmed.id, waiting.id, attended=False)
    assert undone.status_code == 200 and undone.json() == {"changed": 1}
    empty = await api.call(
        "POST",
        "/events/{slug}/attendance",
        path={"slug": event.slug},
        json={"registration_ids": [], "attended": "perhaps"},
    )
    assert empty.status_code == 422
    assert set(empty.json()["fields"]) == {"registration_ids", "attended"}


# Permissions -----------------------------------------------------------------------------


async def test_another_organisers_events_and_registrations_are_404_on_every_endpoint(
    client: httpx.AsyncClient,
    make: Factory,
    owner: Organiser,
    other_token: str,
) -> None:
    event = await make.event("Owned", capacity=5)
    await give_event(make.database, event, owner)
    await register(make, event, "jo@example.org")
    (registration,) = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    probe = Checked(client, other_token)
    path = {"slug": event.slug}
    answers = [
        await probe.call("GET", "/events/{slug}", path=path),
        await probe.call("GET", "/events/{slug}", path={"slug": "no-such-event"}),
        await probe.call("PATCH", "/events/{slug}", path=path, json={"title": "Mine now"}),
        await probe.call("GET", "/events/{slug}/registrations", path=path),
        await probe.call(
            "POST",
            "/events/{slug}/registrations",
            path=path,
            json={"name": "Spy", "email": "spy@example.org"},
        ),
        await probe.call(
            "POST",
            "/events/{slug}/registrations/{registration_id}/cancel",
            path={**path, "registration_id": registration.id},
        ),
        await probe.call(
            "POST",
            "/events/{slug}/attendance",
            path=path,
            json={"registration_ids": [registration.id]},
        ),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert len({a.text for a in answers}) == 1, "a foreign event answers as a missing one"
    after = await by_status(make.database, event.id, RegistrationStatus.confirmed)
    assert [(r.email, r.attended) for r in after] == [("jo@example.org", False)]
    async with make.database.reader() as session:
        title = (
            await session.execute(select(Event.title).where(Event.id == event.id))
        ).scalar_one()
    assert title == "Owned"


async def test_a_registration_id_of_another_event_is_404_even_on_a_managed_event(
    client: httpx.AsyncClient, make: Factory, owner: Organiser, owner_token: str
) -> None:
    mine = await make.event()
    theirs = await make.event()
    await give_event(make.database, mine, owner)
    await register(make, theirs, "jo@example.org")
    (registration,) = await by_status(make.database, theirs.id, RegistrationStatus.confirmed)
    answer = await Checked(client, owner_token).call(
        "POST",
        "/events/{slug}/registrations/{registration_id}/cancel",
        path={"slug": mine.slug, "registration_id": registration.id},
    )
    assert answer.status_code == 404
    assert await by_status(make.database, theirs.id, RegistrationStatus.confirmed)


async def test_shared_events_and_admins_are_allowed(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    clock: FrozenClock,
    owner: Organiser,
    other: Organiser,
    other_token: str,
) -> None:
    event = await make.event()
    await give_event(make.database, event, owner)
    await share_event(make.database, event, other)
    shared = await Checked(client, other_token).call(
        "GET", "/events/{slug}", path={"slug": event.slug}
    )
    assert shared.status_code == 200
    admin = await new_organiser(database, clock, role=OrganiserRole.admin)
    admin_token = await token_for(database, clock, admin)
    by_admin = await Checked(client, admin_token).call(
        "PATCH", "/events/{slug}", path={"slug": event.slug}, json={"summary": "Checked"}
    )
    assert by_admin.status_code == 200 and by_admin.json()["summary"] == "Checked"


async def test_openapi_documents_the_write_api_with_bearer_security_and_its_errors(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    scheme = document["components"]["securitySchemes"]["organiserToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    operations = {
        (path, method): operation
        for path, item in document["paths"].items()
        if path.startswith(API)
        for method, operation in item.items()
    }
    assert set(operations) == {
        (f"{API}/events", "post"),
        (f"{API}/events/{{slug}}", "get"),
        (f"{API}/events/{{slug}}", "patch"),
        (f"{API}/events/{{slug}}/registrations", "get"),
        (f"{API}/events/{{slug}}/registrations", "post"),
        (f"{API}/events/{{slug}}/registrations/{{registration_id}}/cancel", "post"),
        (f"{API}/events/{{slug}}/attendance", "post"),
    }
    for (path, method), operation in operations.items():
        assert operation["security"] == [{"organiserToken": []}], (path, method)
        assert "401" in operation["responses"], (path, method)
        if "{slug}" in path:
            assert "404" in operation["responses"], (path, method)
        if method in ("post", "patch") and not path.endswith("/cancel"):
            assert "422" in operation["responses"], (path, method)
            assert "requestBody" in operation, (path, method)
    for path in (f"{API}/events/{{slug}}", f"{API}/events/{{slug}}/registrations"):
        assert "409" in operations[(path, "patch" if path.endswith("}") else "post")]["responses"]
