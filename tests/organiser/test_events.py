"""The console's event pages: create, edit with field errors, preview, publish, unpublish,
cancel, duplicate, sharing, the audit log, and the 404 wall around other organisers' events."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from events.audit.models import AuditEntry
from events.catalog.models import Event, EventStatus
from events.clock import FrozenClock
from events.db import Database
from events.organiser import event_forms
from events.organiser.models import Organiser, event_shares
from tests.factories import Factory, register
from tests.organiser.helpers import give_event, new_organiser, share_event, sign_in
from tests.registration.helpers import csrf_token, outbox


async def _event(database: Database, event_id: int) -> Event:
    async with database.reader() as session:
        return (await session.execute(select(Event).where(Event.id == event_id))).scalar_one()


async def _by_slug(database: Database, slug: str) -> Event | None:
    async with database.reader() as session:
        found = await session.execute(select(Event).where(Event.slug == slug))
        return found.scalar_one_or_none()


async def _audit(database: Database, event_id: int) -> list[AuditEntry]:
    async with database.reader() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.event_id == event_id).order_by(AuditEntry.id)
        )
        return list(rows.scalars())


def _form(csrf: str, **overrides: Any) -> dict[str, Any]:
    """A valid event form: a webinar on 10 March 2026, 16:00-17:00 London time."""
    fields: dict[str, Any] = {
        "csrf_token": csrf,
        "title": "SEND and the law",
        "kind": "webinar",
        "format": "online",
        "timezone": "Europe/London",
        "start_date": "2026-03-10",
        "start_time": "16:00",
        "end_date": "",
        "end_time": "17:00",
        "joining_url": "https://meet.example.org/room-1",
        "capacity": "20",
        "reminders": ["10080", "1440"],
        "organiser_name": "Events team",
        "organiser_email": "events@example.org",
    }
    fields.update(overrides)
    return fields


async def _edit_form(console: httpx.AsyncClient, slug: str, **overrides: Any) -> dict[str, Any]:
    """The edit form as the page fills it in, with ``overrides`` typed over it."""
    page = await console.get(f"/organiser/events/{slug}/edit")
    assert page.status_code == 200, page.text
    html = page.text
    fields: dict[str, Any] = {}
    for name, value in re.findall(
        r'<input id="[^"]+" name="([^"]+)" type="(?:text|url|email|number|date|time)"'
        r'[^>]*? value="([^"]*)"',
        html,
    ):
        fields[name] = value
    for name, body in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html
    ):
        fields[name] = body
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(r'name="([^"]+)" type="checkbox" value="([^"]*)" checked', html):
        if name in {"topics", "access", "reminders"}:
            fields.setdefault(name, []).append(value)
        else:
            fields[name] = value
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    fields["csrf_token"] = csrf.group(1)
    fields.update(overrides)
    return fields


# Create ---------------------------------------------------------------------------------


async def test_create_saves_a_draft_owned_by_the_organiser_in_local_time(
    console: httpx.AsyncClient, database: Database, organiser: Organiser
) -> None:
    csrf = await csrf_token(console, "/organiser/events/new")
    response = await console.post("/organiser/events/new", data=_form(csrf))
    assert response.status_code == 303
    assert response.headers["location"] == "/organiser/events/send-and-the-law?done=created"
    event = await _by_slug(database, "send-and-the-law")
    assert event is not None
    assert event.status == EventStatus.draft
    assert event.owner_id == organiser.id
    # 16:00 in London on 10 March (GMT) is 16:00 UTC; capacity and reminders as typed.
    assert event.starts_at == dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    assert event.capacity == 20 and event.places_left == 20
    assert event.reminder_offsets == [10080, 1440]
    page = await console.get(response.headers["location"])
    assert "Event created as a draft." in page.text
    assert [e.action for e in await _audit(database, event.id)] == ["event.created"]


async def test_create_reads_times_in_the_events_zone_across_the_clock_change(
    console: httpx.AsyncClient, database: Database
) -> None:
    csrf = await csrf_token(console, "/organiser/events/new")
    # 30 March 2026 is British Summer Time: 16:00 local is 15:00 UTC.
    await console.post("/organiser/events/new", data=_form(csrf, start_date="2026-03-30"))
    event = await _by_slug(database, "send-and-the-law")
    assert event is not None
    assert event.starts_at == dt.datetime(2026, 3, 30, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_time": "15:00"}, "end_date", "The event must end after it starts."),
        ({"capacity": "-1"}, "capacity", "Capacity cannot be negative."),
        ({"capacity": "lots"}, "capacity", "whole number"),
        (
            {
                "opens_date": "2026-03-05",
                "opens_time": "09:00",
                "closes_date": "2026-03-04",
                "closes_time": "09:00",
            },
            "closes_date",
            "Registration must close after it opens.",
        ),
        (
            {"joining_url": "http://meet.example.org/room"},
            "joining_url",
            "The joining link must be an https:// address.",
        ),
        ({"title": ""}, "title", "Enter a title."),
        ({"start_time": "01:30", "start_date": "2026-03-29"}, "start_time", "clocks go forward"),
    ],
)
async def test_create_refuses_bad_input_per_field_and_keeps_what_was_typed(
    console: httpx.AsyncClient,
    database: Database,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = await csrf_token(console, "/organiser/events/new")
    response = await console.post(
        "/organiser/events/new",
        data=_form(csrf, summary="Kept <summary> text", **overrides),
    )
    assert response.status_code == 422
    html = response.text
    assert f'id="{field}-error"' in html and message in html
    assert f'href="#{field}"' in html  # the error summary links to the control
    assert "Kept &lt;summary&gt; text" in html  # typed input is kept, escaped
    assert 'value="events@example.org"' in html
    async with database.reader() as session:
        assert (await session.execute(select(Event))).first() is None


async def test_posting_without_csrf_is_refused_and_changes_nothing(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    form = _form("")
    del form["csrf_token"]
    assert (await console.post("/organiser/events/new", data=form)).status_code == 403
    event = await make.event("Mine", capacity=5)
    await give_event(database, event, organiser)
    for action in ("publish", "unpublish", "cancel", "duplicate", "sharing", "edit"):
        response = await console.post(
            f"/organiser/events/{event.slug}/{action}", data={"title": "Changed", "email": "x@y"}
        )
        assert response.status_code == 403, action
    after = await _event(database, event.id)
    assert after.status == EventStatus.published and after.title == "Mine"
    assert await outbox(database) == []


# Edit -------------------------------------------------------------------------------------


async def test_reschedule_raises_sequence_and_emails_each_confirmed_registrant_once(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Rescheduled", capacity=2, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    await register(make, event, "two@example.org")
    await register(make, event, "waiting@example.org")
    await register(make, event, "gone@example.org")  # waiting, then cancelled below
    from events.db import unit_of_work
    from events.registration import service as registrations
    from tests.factories import TEST_SIGNER
    from tests.registration.helpers import latest_token

    async with unit_of_work(database.writer) as session:
        await registrations.cancel(
            session,
            make.clock,
            token=await latest_token(database, "gone@example.org"),
            signer=TEST_SIGNER,
        )

    edit = await console.get(f"/organiser/events/{event.slug}/edit")
    assert "will email 2 confirmed people" in edit.text
    form = await _edit_form(console, event.slug, start_time="18:00", end_time="19:30")
    response = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert response.status_code == 303, response.text
    # Two confirmed places and, for a new time, the one person still waiting.
    assert response.headers["location"].endswith("?done=saved&emailed=3")
    after = await _event(database, event.id)
    assert after.ical_sequence == event.ical_sequence + 1
    updates = await outbox(database, "event_updated")
    assert sorted(m.recipient for m in updates) == ["one@example.org", "two@example.org"]
    [waiting] = await outbox(database, "waitlist_moved")
    assert waiting.recipient == "waiting@example.org"
    assert all(m.payload["sequence"] == after.ical_sequence for m in updates)
    assert set(updates[0].payload["changed"]) == {"starts_at", "ends_at"}

    # The same save again changes nothing and emails nobody.
    again = await console.post(
        f"/organiser/events/{event.slug}/edit", data=await _edit_form(console, event.slug)
    )
    assert again.status_code == 303, re.findall(r"field-error[^>]*>(.*?)</p>", again.text)
    assert again.headers["location"].endswith("?done=saved&emailed=0")
    assert (await _event(database, event.id)).ical_sequence == after.ical_sequence
    assert len(await outbox(database, "event_updated")) == 2

    entries = [e for e in await _audit(database, event.id) if e.action == "event.updated"]
    assert len(entries) == 1
    assert entries[0].actor_label == organiser.email
    assert set(entries[0].after) == {"starts_at", "ends_at", "ical_sequence"}
    log = await console.get(f"/organiser/events/{event.slug}/audit")
    assert "Details changed" in log.text and organiser.email in log.text
    # In the event's own zone (London, early March), not a UTC ISO string.
    assert (
        "<strong>Start</strong>: Monday 9 March 2026, 10am → Monday 9 March 2026, 6pm" in log.text
    )


def _visible(html: str) -> str:
    """The words a reader sees in the page's main content (tags and attributes dropped)."""
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


async def test_the_history_and_event_pages_speak_plain_english(
    console: httpx.AsyncClient,
    database: Database,
    make: Factory,
    organiser: Organiser,
    clock: FrozenClock,
) -> None:
    event = await make.event("Plain words", capacity=1, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    await register(make, event, "two@example.org")  # on the waiting list
    form = await _edit_form(
        console, event.slug, start_time="18:00", end_time="19:30", capacity="", members_only=""
    )
    form.pop("members_only", None)
    saved = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert saved.status_code == 303, saved.text
    actions = {e.action for e in await _audit(database, event.id)}
    assert {"event.created", "registration.created", "event.updated"} <= actions

    log = _visible((await console.get(f"/organiser/events/{event.slug}/audit")).text)
    for code in [*sorted(actions), "waitlisted", "ical_sequence", "waiting_list_number"]:
        assert code not in log, code
    for word in ("None", "True", "False", "Calendar sequence", "UTC"):
        assert not re.search(rf"\b{word}\b", log), (word, log)
    assert "Event created" in log and "Registered" in log and "Details changed" in log
    assert "Status : on the waiting list" in log
    assert "Places : 1 → not set" in log

    for path in (f"/organiser/events/{event.slug}", f"/events/{event.slug}"):
        page = _visible((await console.get(path)).text)
        for word in ("None", "True", "False", "Calendar sequence", "sequence"):
            assert not re.search(rf"\b{word}\b", page), (path, word, page)


async def test_a_new_title_updates_calendars_and_a_new_capacity_emails_nobody(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    """Issue 13 item 3: the title shows in the calendar invite, so changing it through the
    console sends each confirmed place the update at SEQUENCE + 1; the capacity does not
    show, so changing it sends nothing and keeps the sequence."""
    event = await make.event("Old title", capacity=5)
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    await register(make, event, "two@example.org")
    edit = await console.get(f"/organiser/events/{event.slug}/edit")
    assert "Changing anything shown in calendar invites (title," in edit.text
    form = await _edit_form(console, event.slug, title="New title")
    response = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=saved&emailed=2")
    after = await _event(database, event.id)
    assert after.title == "New title"
    assert after.slug == event.slug  # the address stays stable
    assert after.ical_sequence == event.ical_sequence + 1
    updates = await outbox(database, "event_updated")
    assert sorted(m.recipient for m in updates) == ["one@example.org", "two@example.org"]
    assert all(m.payload["sequence"] == after.ical_sequence for m in updates)
    assert all(m.payload["changed"] == ["title"] for m in updates)
    [entry] = [e for e in await _audit(database, event.id) if e.action == "event.updated"]
    assert entry.before == {"title": "Old title", "ical_sequence": event.ical_sequence}
    assert entry.after == {"title": "New title", "ical_sequence": after.ical_sequence}

    form = await _edit_form(console, event.slug, capacity="8")
    response = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=saved&emailed=0")
    resized = await _event(database, event.id)
    assert resized.capacity == 8 and resized.ical_sequence == after.ical_sequence
    assert len(await outbox(database, "event_updated")) == 2


async def test_new_joining_link_emails_registrants_but_never_appears_in_the_audit(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Webinar", capacity=5)
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    new_link = "https://meet.example.org/brand-new-room-987"
    form = await _edit_form(console, event.slug, joining_url=new_link)
    await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert [m.recipient for m in await outbox(database, "event_updated")] == ["one@example.org"]
    [entry] = [e for e in await _audit(database, event.id) if e.action == "event.updated"]
    assert entry.after["joining_url"] == "changed"
    log = await console.get(f"/organiser/events/{event.slug}/audit")
    assert new_link not in log.text and "secret-room-123" not in log.text


async def test_edit_errors_are_shown_next_to_fields_and_nothing_changes(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Stays", capacity=5)
    await give_event(database, event, organiser)
    form = await _edit_form(
        console, event.slug, title="Typed title", joining_url="http://insecure.example.org"
    )
    response = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert response.status_code == 422
    assert 'id="joining_url-error"' in response.text
    assert 'value="Typed title"' in response.text
    assert (await _event(database, event.id)).title == "Stays"


async def test_raising_capacity_promotes_the_first_waiting_in_order(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Full", capacity=1, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    await register(make, event, "holder@example.org")
    await register(make, event, "first@example.org")
    await register(make, event, "second@example.org")
    form = await _edit_form(console, event.slug, capacity="2")
    await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert [m.recipient for m in await outbox(database, "promoted")] == ["first@example.org"]
    after = await _event(database, event.id)
    assert after.capacity == 2 and after.places_left == 0
    assert await outbox(database, "event_updated") == []  # capacity is not a move

    # Below the number confirmed is refused on the field, and nothing changes.
    form = await _edit_form(console, event.slug, capacity="1")
    refused = await console.post(f"/organiser/events/{event.slug}/edit", data=form)
    assert refused.status_code == 422 and 'id="capacity-error"' in refused.text
    assert (await _event(database, event.id)).capacity == 2


# Status changes -----------------------------------------------------------------------------


async def test_publish_and_unpublish_a_draft(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Draft", publish=False)
    await give_event(database, event, organiser)
    csrf = await csrf_token(console, f"/organiser/events/{event.slug}")
    response = await console.post(
        f"/organiser/events/{event.slug}/publish", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    assert (await _event(database, event.id)).status == EventStatus.published
    await console.post(f"/organiser/events/{event.slug}/unpublish", data={"csrf_token": csrf})
    assert (await _event(database, event.id)).status == EventStatus.draft
    actions = [e.action for e in await _audit(database, event.id)]
    assert actions[-2:] == ["event.published", "event.unpublished"]


async def test_unpublish_is_refused_once_people_have_registered(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Popular")
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    csrf = await csrf_token(console, f"/organiser/events/{event.slug}")
    response = await console.post(
        f"/organiser/events/{event.slug}/unpublish", data={"csrf_token": csrf}
    )
    assert response.status_code == 409
    assert "Cancel it instead" in response.text
    assert (await _event(database, event.id)).status == EventStatus.published


async def test_cancel_confirms_first_then_emails_everyone_and_shows_cancelled(
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    database: Database,
    make: Factory,
    organiser: Organiser,
) -> None:
    event = await make.event("Called off", capacity=1, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    await register(make, event, "holder@example.org")
    await register(make, event, "waiting@example.org")
    confirm = await console.get(f"/organiser/events/{event.slug}/cancel")
    assert "This will email 2 people" in confirm.text
    assert (await _event(database, event.id)).status == EventStatus.published  # not yet
    csrf = await csrf_token(console, f"/organiser/events/{event.slug}/cancel")
    response = await console.post(
        f"/organiser/events/{event.slug}/cancel", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    after = await _event(database, event.id)
    assert after.status == EventStatus.cancelled
    assert after.ical_sequence == event.ical_sequence + 1
    cancelled = await outbox(database, "event_cancelled")
    assert sorted(m.recipient for m in cancelled) == ["holder@example.org", "waiting@example.org"]
    public = await client.get(f"/events/{event.slug}")
    assert "This event has been cancelled" in public.text
    ics = await client.get(f"/events/{event.slug}.ics")
    assert "STATUS:CANCELLED" in ics.text
    assert f"SEQUENCE:{after.ical_sequence}" in ics.text
    assert [e.action for e in await _audit(database, event.id)][-1] == "event.cancelled"


# Duplicate, preview ------------------------------------------------------------------------


async def test_duplicate_makes_a_draft_with_new_uid_and_slug_on_the_new_date(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    topic = await make.topic("SEND")
    starts = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    event = await make.event("Original", starts_at=starts, topics=(topic,), capacity=3)
    await give_event(database, event, organiser)
    await register(make, event, "one@example.org")
    csrf = await csrf_token(console, f"/organiser/events/{event.slug}/duplicate")
    response = await console.post(
        f"/organiser/events/{event.slug}/duplicate",
        data={"csrf_token": csrf, "starts_on": "2026-04-14"},
    )
    assert response.status_code == 303
    copy_slug = response.headers["location"].split("/")[-1].split("?")[0]
    copy = await _by_slug(database, copy_slug)
    assert copy is not None and copy.id != event.id
    assert copy.status == EventStatus.draft
    assert copy.uid != event.uid and copy.slug != event.slug
    assert copy.owner_id == organiser.id
    # Same local time (16:00) on the new day, which is in British Summer Time.
    assert copy.starts_at == dt.datetime(2026, 4, 14, 15, 0, tzinfo=dt.UTC)
    assert copy.places_left == 3  # no registrations were copied
    page = await console.get(f"/organiser/events/{copy_slug}/edit")
    assert re.search(r'value="send" checked', page.text)


async def test_preview_shows_a_draft_marked_as_preview(
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    database: Database,
    make: Factory,
    organiser: Organiser,
) -> None:
    event = await make.event("Not yet public", publish=False, summary="Coming soon")
    await give_event(database, event, organiser)
    assert (await client.get(f"/events/{event.slug}")).status_code == 404
    page = await console.get(f"/organiser/events/{event.slug}/preview")
    assert page.status_code == 200
    assert "Preview of a draft" in page.text and "Coming soon" in page.text
    assert "secret-room-123" not in page.text  # the joining link stays private
    assert page.headers["cache-control"] == "no-store"


# Listing --------------------------------------------------------------------------------------


async def test_list_shows_only_managed_events_with_filters(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    mine = await make.event("Mine upcoming")
    draft = await make.event("Mine draft", publish=False)
    past = await make.event("Mine past", starts_at=make.clock.now() - dt.timedelta(days=3))
    shared = await make.event("Shared with me")
    await make.event("Somebody else's")
    for event in (mine, draft, past):
        await give_event(database, event, organiser)
    await share_event(database, shared, organiser)
    page = (await console.get("/organiser/events")).text
    assert "Mine upcoming" in page and "Mine draft" in page and "Shared with me" in page
    assert "Mine past" not in page and "Somebody else" not in page
    assert "Mine past" in (await console.get("/organiser/events?when=past")).text
    drafts = (await console.get("/organiser/events?status=draft")).text
    assert "Mine draft" in drafts and "Mine upcoming" not in drafts
    found = (await console.get("/organiser/events?q=shared")).text
    assert "Shared with me" in found and "Mine upcoming" not in found


# Permissions -----------------------------------------------------------------------------------


async def test_another_organisers_event_is_404_everywhere_and_nothing_changes(
    console: httpx.AsyncClient,
    admin_console: httpx.AsyncClient,
    database: Database,
    make: Factory,
    clock: FrozenClock,
) -> None:
    other = await new_organiser(database, clock)
    event = await make.event("Theirs", capacity=5)
    await give_event(database, event, other)
    await register(make, event, "one@example.org")
    csrf = await csrf_token(console, "/organiser/events/new")
    base = f"/organiser/events/{event.slug}"
    for page in ("", "/edit", "/preview", "/cancel", "/duplicate", "/sharing", "/audit"):
        assert (await console.get(base + page)).status_code == 404, page
    assert (await console.get("/organiser/events/no-such-event")).status_code == 404
    for action, data in (
        ("/edit", _form(csrf, title="Hijacked")),
        ("/publish", {"csrf_token": csrf}),
        ("/unpublish", {"csrf_token": csrf}),
        ("/cancel", {"csrf_token": csrf}),
        ("/duplicate", {"csrf_token": csrf}),
        ("/sharing", {"csrf_token": csrf, "email": "x@example.org"}),
    ):
        assert (await console.post(base + action, data=data)).status_code == 404, action
    after = await _event(database, event.id)
    assert after.title == "Theirs" and after.status == EventStatus.published
    assert after.ical_sequence == event.ical_sequence
    async with database.reader() as session:
        assert (await session.execute(select(Event).where(Event.id != event.id))).first() is None
    assert await outbox(database, "event_cancelled") == []
    assert "Theirs" not in (await console.get("/organiser/events")).text
    # An admin manages every event.
    assert (await admin_console.get(base)).status_code == 200
    assert (await admin_console.get(base + "/edit")).status_code == 200


async def test_sharing_grants_and_removes_access(
    console: httpx.AsyncClient,
    app: Any,
    database: Database,
    make: Factory,
    clock: FrozenClock,
    organiser: Organiser,
) -> None:
    colleague = await new_organiser(database, clock, email="colleague@union.example")
    event = await make.event("Shared event")
    await give_event(database, event, organiser)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as theirs:
        await sign_in(theirs, database, clock, colleague)
        assert (await theirs.get(f"/organiser/events/{event.slug}")).status_code == 404
        csrf = await csrf_token(console, f"/organiser/events/{event.slug}/sharing")
        response = await console.post(
            f"/organiser/events/{event.slug}/sharing",
            data={"csrf_token": csrf, "email": "  Colleague@Union.example "},
        )
        assert response.status_code == 303
        assert (await theirs.get(f"/organiser/events/{event.slug}")).status_code == 200
        # A shared organiser can work on the event but not reshare it.
        sharing = await theirs.get(f"/organiser/events/{event.slug}/sharing")
        assert "Only the owner or an admin" in sharing.text
        await console.post(
            f"/organiser/events/{event.slug}/sharing",
            data={"csrf_token": csrf, "organiser_id": str(colleague.id)},
        )
        assert (await theirs.get(f"/organiser/events/{event.slug}")).status_code == 404
    unknown = await console.post(
        f"/organiser/events/{event.slug}/sharing",
        data={"csrf_token": csrf, "email": "nobody@union.example"},
    )
    assert unknown.status_code == 422 and 'id="email-error"' in unknown.text
    actions = [e.action for e in await _audit(database, event.id)]
    assert actions[-2:] == ["event.shared", "event.unshared"]
    async with database.reader() as session:
        assert (await session.execute(select(event_shares))).first() is None


async def test_a_cancelled_event_cannot_be_edited_and_says_why(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Over")
    await give_event(database, event, organiser)
    form = await _edit_form(console, event.slug)
    csrf = await csrf_token(console, f"/organiser/events/{event.slug}/cancel")
    await console.post(f"/organiser/events/{event.slug}/cancel", data={"csrf_token": csrf})
    page = await console.get(f"/organiser/events/{event.slug}/edit")
    assert "This event is cancelled, so it can no longer be changed." in page.text
    refused = await console.post(
        f"/organiser/events/{event.slug}/edit", data={**form, "title": "Revived"}
    )
    assert refused.status_code == 409
    assert "A cancelled event cannot be changed." in refused.text
    assert (await _event(database, event.id)).title == "Over"


async def test_an_admin_can_act_on_any_event(
    admin_console: httpx.AsyncClient, database: Database, make: Factory, clock: FrozenClock
) -> None:
    owner = await new_organiser(database, clock)
    event = await make.event("Someone's draft", publish=False)
    await give_event(database, event, owner)
    csrf = await csrf_token(admin_console, f"/organiser/events/{event.slug}")
    response = await admin_console.post(
        f"/organiser/events/{event.slug}/publish", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    assert (await _event(database, event.id)).status == EventStatus.published
    [entry] = [e for e in await _audit(database, event.id) if e.action == "event.published"]
    assert entry.organiser_id is not None and entry.organiser_id != owner.id


async def test_the_list_pages_through_many_events(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    start = make.clock.now() + dt.timedelta(days=1)
    for n in range(27):
        event = await make.event(f"Session {n:02d}", starts_at=start + dt.timedelta(days=n))
        await give_event(database, event, organiser)
    first = (await console.get("/organiser/events")).text
    assert "27 events" in first and "page 1 of 2" in first
    assert "Session 00" in first and "Session 26" not in first
    second = (await console.get("/organiser/events?when=upcoming&page=2")).text
    assert "Session 26" in second and "Session 00" not in second


def test_an_all_day_event_round_trips_through_the_form() -> None:
    from starlette.datastructures import FormData

    from events.organiser.event_forms import event_values, parse_event_form

    form = FormData(
        [
            ("title", "Campaign day"),
            ("kind", "campaign_event"),
            ("format", "in_person"),
            ("timezone", "Europe/London"),
            ("start_date", "2026-06-20"),
            ("end_date", "2026-06-21"),
            ("all_day", "1"),
            ("reminders", "1440"),
        ]
    )
    parsed = parse_event_form(form)
    assert parsed.errors == {} and parsed.data is not None
    # Midnight to midnight in British Summer Time, over two days.
    assert parsed.data.starts_at == dt.datetime(2026, 6, 19, 23, 0, tzinfo=dt.UTC)
    assert parsed.data.ends_at == dt.datetime(2026, 6, 21, 23, 0, tzinfo=dt.UTC)
    event = Event(
        title="Campaign day",
        slug="campaign-day",
        kind=parsed.data.kind,
        format=parsed.data.format,
        starts_at=parsed.data.starts_at,
        ends_at=parsed.data.ends_at,
        timezone="Europe/London",
        all_day=True,
        reminder_offsets=[1440],
    )
    for name in ("region", "series", "campaign"):
        setattr(event, name, None)
    event.topics, event.access_provisions = [], []
    values = event_values(event)
    assert (values["start_date"], values["end_date"]) == ("2026-06-20", "2026-06-21")
    assert values["all_day"] is True and values["start_time"] == ""


def test_the_form_refuses_unknown_choices_and_odd_characters() -> None:
    from starlette.datastructures import FormData

    from events.organiser.event_forms import parse_event_form

    parsed = parse_event_form(
        FormData(
            [
                ("title", "Bad\x00title"),
                ("kind", "party"),
                ("format", "online"),
                ("timezone", "Mars/Olympus"),
                ("start_date", "2026-13-01"),
                ("start_time", "25:00"),
                ("end_time", "17:00"),
                ("reminders", "-5"),
            ]
        )
    )
    assert parsed.data is None
    assert {"kind", "timezone", "start_date", "start_time", "reminders"} <= set(parsed.errors)
    assert parsed.values["title"] == "Badtitle"


async def test_the_event_form_template_shows_a_control_for_every_editable_field(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    """The form's controls come from the one list of editable fields; the template must
    show each of them, or a new field could be saved by the API but never by the console.
    (The edit page: the web address is changed there, and topics show once one exists.)"""
    await make.topic("Any topic")
    event = await make.event("Every control")
    await give_event(database, event, organiser)
    page = (await console.get(f"/organiser/events/{event.slug}/edit")).text
    controls = {*event_forms.TEXT_FIELDS, *event_forms.FLAG_FIELDS, *event_forms.LIST_FIELDS}
    missing = {name for name in controls if f'name="{name}"' not in page}
    assert missing == set()
