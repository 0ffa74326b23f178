"""The demo data has the shape SPEC.md's seeds promise, whenever it is loaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.applications import Starlette

from events import demo
from events.audit.models import ActorKind, AuditEntry
from events.catalog import queries
from events.catalog.errors import EventNotFound
from events.catalog.models import (
    REGIONS,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Series,
    Topic,
)
from events.catalog.presentation import RegistrationState, registration_state
from events.cli import main
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.mail.kinds import MessageKind
from events.mail.models import OutboxMessage, OutboxStatus
from events.organiser import attendance
from events.organiser.models import OrganiserRole
from events.registration import service
from events.registration.models import Registration, RegistrationStatus
from tests.organiser.helpers import new_organiser
from tests.organiser.test_attendance import signed_in_client

LONDON = ZoneInfo("Europe/London")


@dataclass
class Loaded:
    summary: str
    events: list[Event]
    topics: list[Topic]
    series: list[Series]
    campaigns: list[Campaign]
    now: dt.datetime

    def published(self) -> list[Event]:
        return [e for e in self.events if e.status == EventStatus.published]

    def public(self) -> list[Event]:
        return [e for e in self.events if e.status != EventStatus.draft]

    def states(self) -> dict[RegistrationState, list[Event]]:
        found: dict[RegistrationState, list[Event]] = {}
        for event in self.events:
            found.setdefault(registration_state(event, self.now), []).append(event)
        return found


async def _load(database: Database, clock: FrozenClock) -> Loaded:
    async with unit_of_work(database.writer) as session:
        summary = await demo.seed(session, clock)
    async with unit_of_work(database.reader) as session:
        events = (
            (
                await session.execute(
                    select(Event)
                    .options(*queries.event_load_options())
                    .order_by(Event.starts_at, Event.id)
                )
            )
            .scalars()
            .unique()
            .all()
        )
        topics = (await session.execute(select(Topic))).scalars().all()
        series = (
            (await session.execute(select(Series).options(selectinload(Series.partners))))
            .scalars()
            .all()
        )
        campaigns = (await session.execute(select(Campaign))).scalars().all()
    return Loaded(summary, list(events), list(topics), list(series), list(campaigns), clock.now())


def _local_date(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(zone)).date()


async def test_seed_returns_a_summary_matching_the_rows_when_the_database_is_empty(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    (series,) = loaded.series
    (campaign,) = loaded.campaigns
    sessions = [e for e in loaded.events if e.series_id == series.id]
    local = [e for e in loaded.events if e.campaign_id == campaign.id]
    others = len(loaded.events) - len(sessions) - len(local)
    assert "\n" not in loaded.summary
    assert loaded.summary.startswith(f"{len(loaded.topics)} topics, ")
    assert f"1 series ({len(sessions)} sessions)" in loaded.summary
    assert f"1 campaign ({len(local)} local events on {campaign.starts_on.isoformat()})" in (
        loaded.summary
    )
    assert f"{others} other events" in loaded.summary


async def test_seed_features_the_send_topic_with_advice_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    topics = {topic.name: topic for topic in loaded.topics}
    assert {"SEND", "Funding", "Workload", "Inclusion", "Pay", "Health and safety"} <= set(topics)
    assert "Early years" in topics
    send = topics["SEND"]
    assert send.featured and send.summary and send.description
    assert "EHCP" in send.advice and "reasonable adjustments" in send.advice.lower()
    assert "###" in send.advice, "advice is Markdown with headings"
    assert sum(topic.featured for topic in loaded.topics) >= 3
    upcoming_send = [
        e
        for e in loaded.published()
        if send.id in {t.id for t in e.topics} and not e.is_past(loaded.now)
    ]
    assert len(upcoming_send) >= 10


async def test_seed_builds_a_partner_series_with_past_and_future_sessions_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    (series,) = loaded.series
    assert series.partners
    sessions = [e for e in loaded.events if e.series_id == series.id]
    assert len(sessions) >= 4
    assert all(e.kind == EventKind.webinar and e.format == EventFormat.online for e in sessions)
    assert all(e.status == EventStatus.published for e in sessions)
    assert any(e.is_past(loaded.now) for e in sessions)
    assert sum(not e.is_past(loaded.now) for e in sessions) >= 2
    assert all("live_captions" in {p.code for p in e.access_provisions} for e in sessions)
    assert {t.name for t in sessions[0].topics} == {"SEND", "Inclusion"}
    days = [_local_date(e.starts_at, e.timezone) for e in sessions]
    gaps = {later - earlier for earlier, later in itertools.pairwise(days)}
    assert dt.timedelta(weeks=2) in gaps
    # After school, local time: 16:00, whatever the offset from UTC that day.
    assert {e.starts_at.astimezone(LONDON).time() for e in sessions} == {dt.time(16, 0)}


async def test_seed_spreads_the_campaign_over_every_region_on_one_local_day_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    (campaign,) = loaded.campaigns
    assert campaign.title == "SEND National Crisis"
    assert campaign.starts_on == campaign.ends_on > loaded.now.date()
    local = [e for e in loaded.events if e.campaign_id == campaign.id]
    assert len(local) >= 25
    assert {e.region.slug for e in local if e.region} == {slug for slug, _ in REGIONS}
    assert {_local_date(e.starts_at, e.timezone) for e in local} == {campaign.starts_on}
    assert len({e.starts_at for e in local}) >= 8, "start times differ across the day"
    for event in local:
        assert event.kind == EventKind.campaign_event and event.format == EventFormat.in_person
        assert event.venue_name and event.venue_address and event.town
        assert event.postcode_district, f"{event.postcode!r} is not a UK postcode"
        assert event.organiser_name and event.organiser_email.endswith("@example.org")
        assert "SEND" in {t.name for t in event.topics}
        local_start = event.starts_at.astimezone(ZoneInfo(event.timezone)).time()
        assert dt.time(10) <= local_start <= dt.time(19)
    assert len({e.venue_name for e in local}) == len(local)
    assert any(e.capacity is None for e in local) and any(e.capacity for e in local)
    assert len({frozenset(p.code for p in e.access_provisions) for e in local}) >= 4


async def test_seed_includes_every_registration_state_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    states = loaded.states()
    for state in (
        RegistrationState.open,
        RegistrationState.waiting_list,
        RegistrationState.full,
        RegistrationState.not_open_yet,
        RegistrationState.past,
        RegistrationState.cancelled,
        RegistrationState.draft,
    ):
        assert states.get(state), f"no demo event is {state.value}"
    for waiting in states[RegistrationState.waiting_list]:
        assert waiting.places_left == 0 and waiting.capacity and waiting.waiting_list_enabled
    nearly_full = [
        e
        for e in states[RegistrationState.open]
        if e.capacity and e.places_left is not None and e.places_left <= e.capacity // 10
    ]
    assert nearly_full
    assert any(e.registration_closes_at for e in loaded.published())
    assert len(states[RegistrationState.cancelled]) == 1
    assert len(states[RegistrationState.draft]) == 1


async def test_seed_covers_audiences_formats_and_access_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    public = loaded.public()
    assert any(e.members_only for e in public)
    assert {e.kind for e in public} == set(EventKind)
    assert {e.format for e in public} == set(EventFormat)
    provisions = {p.code for e in public for p in e.access_provisions}
    assert {"bsl", "live_captions", "step_free", "hearing_loop", "quiet_room"} <= provisions
    text = " ".join(f"{e.title} {e.summary} {e.description}" for e in public).lower()
    for audience in ("class teachers", "sencos", "specialist practitioners", "leaders"):
        assert audience in text
    for setting in ("mainstream", "special school", "alternative provision", "early years"):
        assert setting in text
    assert "post-16" in text
    future = [e for e in loaded.published() if not e.is_past(loaded.now)]
    assert max(e.starts_at for e in future) - loaded.now >= dt.timedelta(days=60)


async def test_seed_gives_every_public_event_a_one_sentence_summary_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    for event in loaded.public():
        assert event.summary.strip(), f"{event.title} has no summary"
        assert event.summary.count(". ") == 0 and event.summary.endswith(".")
        assert event.description.strip()


async def test_seed_puts_https_joining_links_only_on_online_and_hybrid_events_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    for event in loaded.events:
        if event.format == EventFormat.in_person:
            assert event.joining_url == "", event.title
        else:
            assert event.joining_url.startswith("https://meet.example.org/"), event.title


async def test_seed_keeps_drafts_invisible_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    (draft,) = [e for e in loaded.events if e.status == EventStatus.draft]
    async with unit_of_work(database.reader) as session:
        with pytest.raises(EventNotFound):
            await queries.event_by_slug(session, draft.slug)
        upcoming = await queries.upcoming_events(session, now=loaded.now, limit=500)
    assert draft.id not in {e.id for e in upcoming}


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.UTC),  # the night British clocks go back
        dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC),  # four weeks before Christmas
        dt.datetime(2027, 7, 1, 12, 0, tzinfo=dt.UTC),  # summer term, holidays ahead
    ],
)
async def test_seed_keeps_its_shape_when_loaded_at_other_times(
    database: Database, clock: FrozenClock, moment: dt.datetime
) -> None:
    clock.set(moment)
    loaded = await _load(database, clock)
    (campaign,) = loaded.campaigns
    local = [e for e in loaded.events if e.campaign_id == campaign.id]
    assert {_local_date(e.starts_at, e.timezone) for e in local} == {campaign.starts_on}
    assert campaign.starts_on > loaded.now.date()
    assert not demo._in_school_holidays(campaign.starts_on)
    (series,) = loaded.series
    sessions = [e for e in loaded.events if e.series_id == series.id]
    assert any(e.is_past(loaded.now) for e in sessions)
    assert any(not e.is_past(loaded.now) for e in sessions)
    assert len({e.starts_at for e in sessions}) == len(sessions)
    states = loaded.states()
    assert states.get(RegistrationState.waiting_list) and states.get(RegistrationState.past)
    assert states.get(RegistrationState.not_open_yet)


def _count_events(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(count)


def test_seed_demo_command_loads_once_when_run_twice_on_a_fresh_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "demo_test.sqlite3"
    env = {"EVENTS_DATABASE_URL": f"sqlite:///{path}"}
    runner = CliRunner()

    first = runner.invoke(main, ["seed-demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "demo data loaded: 7 topics" in first.output
    assert "local events" in first.output
    loaded = _count_events(path)
    assert loaded >= 40

    second = runner.invoke(main, ["seed-demo"], env=env)
    assert second.exit_code == 0, second.output
    assert "already has events" in second.output
    assert _count_events(path) == loaded


# --- Places: taken through the registration and attendance services -------------------------


async def _registrations(database: Database) -> dict[int, list[Registration]]:
    async with database.reader() as session:
        rows = (await session.scalars(select(Registration).order_by(Registration.id))).all()
    found: dict[int, list[Registration]] = {}
    for row in rows:
        found.setdefault(row.event_id, []).append(row)
    return found


def _with(registrations: list[Registration], status: RegistrationStatus) -> list[Registration]:
    return [r for r in registrations if r.status == status]


async def test_seed_counts_every_place_left_from_the_registrations_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    taken = await _registrations(database)
    assert sum(map(len, taken.values())) >= 200
    for event in loaded.events:
        mine = taken.get(event.id, [])
        confirmed = _with(mine, RegistrationStatus.confirmed)
        if event.status == EventStatus.draft:
            assert not mine
        if event.capacity is None:
            assert event.places_left is None, event.slug
        else:
            assert event.places_left == event.capacity - len(confirmed), event.slug
        waiting = sorted(
            _with(mine, RegistrationStatus.waitlisted), key=lambda r: r.waiting_list_number or 0
        )
        if waiting:
            assert event.places_left == 0 and event.waiting_list_enabled, event.slug
        async with database.reader() as session:
            positions = [await service.place_in_queue(session, r) for r in waiting]
        assert positions == list(range(1, len(waiting) + 1)), event.slug
    everyone = [r for rows in taken.values() for r in rows]
    assert _with(everyone, RegistrationStatus.cancelled)
    async with database.reader() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    # Cancelling a place on a full event gave it to the first person waiting.
    assert {"registration.created", "registration.cancelled", "registration.promoted"} <= actions


async def test_seed_marks_who_came_to_past_events_registered_before_them_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    taken = await _registrations(database)
    past = [e for e in loaded.published() if e.is_past(loaded.now)]
    assert len(past) >= 4
    marked = 0
    for event in past:
        mine = taken.get(event.id, [])
        confirmed = _with(mine, RegistrationStatus.confirmed)
        came = [r for r in mine if r.attended]
        assert came, f"nobody came to {event.slug}"
        assert all(r.status == RegistrationStatus.confirmed for r in came)
        assert len(came) < len(confirmed), "not everyone with a place comes"
        assert all(r.created_at < event.starts_at for r in mine), event.slug
        assert all(
            r.cancelled_at < event.starts_at
            for r in _with(mine, RegistrationStatus.cancelled)
            if r.cancelled_at
        )
        marked += len(came)
    async with database.reader() as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "registration.attended")
            )
        ).all()
    assert len(audited) == marked
    assert {entry.actor_kind for entry in audited} == {ActorKind.organiser}


async def test_seed_fills_a_series_session_and_leaves_nearly_full_events_few_places_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    taken = await _registrations(database)
    upcoming = [e for e in loaded.published() if not e.is_past(loaded.now)]
    full_sessions = [
        e
        for e in upcoming
        if e.series_id and registration_state(e, loaded.now) == RegistrationState.waiting_list
    ]
    assert full_sessions, "no series session is full"
    assert all(_with(taken[e.id], RegistrationStatus.waitlisted) for e in full_sessions)
    by_title = {e.title: e for e in loaded.events}
    for title in ("Leaders' briefing: SEND budgets", "Lobby your MP in Croydon"):
        nearly_full = by_title[title]
        assert nearly_full.places_left is not None and 0 < nearly_full.places_left <= 3, title
    assert registration_state(by_title["Lobby your MP in Coventry"], loaded.now) == (
        RegistrationState.full
    )
    webinars = [e for e in loaded.public() if e.kind == EventKind.webinar]
    assert sum(e.waiting_list_enabled for e in webinars) > len(webinars) / 2
    # The cancelled event had registrations, and each of them was told.
    (cancelled,) = [e for e in loaded.events if e.status == EventStatus.cancelled]
    assert taken[cancelled.id]


async def test_seed_keeps_its_emails_as_skipped_demo_mail_without_links_when_loaded(
    database: Database, clock: FrozenClock
) -> None:
    await _load(database, clock)
    async with database.reader() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert {MessageKind(row.kind) for row in rows} >= {
        MessageKind.confirmed,
        MessageKind.waitlisted,
        MessageKind.promoted,
        MessageKind.cancelled,
        MessageKind.event_cancelled,
    }
    for row in rows:
        # Nothing left for the worker (``events serve --demo`` runs one) to send.
        assert row.status == OutboxStatus.skipped and row.last_error == demo.DEMO_MAIL_REASON
        assert row.recipient.endswith("@example.org")
        assert not {"manage_token", "join_token", "calendar_token"} & set(row.payload)


async def test_console_and_export_agree_with_the_public_page_for_demo_events(
    app: Starlette, client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    loaded = await _load(database, clock)
    admin = await new_organiser(database, clock, role=OrganiserRole.admin)
    limited = [e for e in loaded.published() if e.capacity and not e.is_past(loaded.now)]
    states = {registration_state(e, loaded.now) for e in limited}
    assert {RegistrationState.open, RegistrationState.waiting_list, RegistrationState.full} <= (
        states
    )
    async with await signed_in_client(app, database, clock, admin) as console:
        for event in limited:
            async with database.reader() as session:
                counts = await attendance.counts(session, event)
            left = event.capacity - counts.confirmed if event.capacity else 0
            public = (await client.get(f"/events/{event.slug}")).text
            state = registration_state(event, loaded.now)
            shown = {
                RegistrationState.open: "1 place left" if left == 1 else f"{left} places left",
                RegistrationState.waiting_list: "Full: waiting list open",
                RegistrationState.full: "Full",
            }.get(state)
            if shown:
                assert f'{shown} <span class="hint">({event.capacity} in all)' in public, event.slug
            overview = (await console.get(f"/organiser/events/{event.slug}")).text
            assert f"{event.capacity} in all, {left} left" in overview, event.slug
            assert (
                f"{counts.confirmed} confirmed, {counts.waitlisted} waiting, "
                f"{counts.cancelled} cancelled" in overview
            ), event.slug
            export = await console.get(f"/organiser/events/{event.slug}/registrations.csv")
            rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
            statuses = Counter(row["Status"] for row in rows)
            assert statuses == Counter(
                {"confirmed": counts.confirmed, "waitlisted": counts.waitlisted}
                | ({"cancelled": counts.cancelled} if counts.cancelled else {})
            ), event.slug
