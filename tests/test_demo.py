"""The demo data has the shape SPEC.md's seeds promise, whenever it is loaded."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from events import demo
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
    (waiting,) = states[RegistrationState.waiting_list]
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
