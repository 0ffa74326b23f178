"""The public JSON API: listing filters and pages, items, errors, times across clock changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from events import lifecycle as service
from events.app import create_app
from events.catalog import queries
from events.catalog.models import Event, EventFormat, EventKind
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database, unit_of_work
from tests.factories import Factory

UTC = dt.UTC
SECRET = "secret-room"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


async def get_json(client: httpx.AsyncClient, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert SECRET not in response.text
    return response.json()


async def slugs(client: httpx.AsyncClient, query: str) -> list[str]:
    body = await get_json(client, f"/api/v1/events?{query}")
    return [item["slug"] for item in body["items"]]


async def set_places_left(database: Database, slug: str, places_left: int) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(update(Event).where(Event.slug == slug).values(places_left=places_left))


async def cancel(database: Database, clock: FrozenClock, slug: str) -> None:
    async with unit_of_work(database.writer) as session:
        event = await queries.event_by_slug(session, slug)
        await service.cancel_event(session, clock, event)


@pytest.fixture
async def catalogue(make: Factory, database: Database, clock: FrozenClock) -> None:
    """A small, varied catalogue. Now is Monday 2 March 2026, 10:00 UTC."""
    send = await make.topic("SEND")
    funding = await make.topic("Funding")
    await make.event(
        "SEND webinar",
        slug="send-webinar",
        topics=[send],
        starts_at=at(2026, 3, 9, 16),
        access=("live_captions", "bsl"),
    )
    await make.event(
        "Funding meeting",
        slug="funding-meeting",
        kind=EventKind.meeting,
        format=EventFormat.in_person,
        topics=[funding],
        region="london",
        town="Camden",
        venue_name="Union Hall",
        postcode="NW1 2AB",
        starts_at=at(2026, 3, 12, 18),
        access=("step_free",),
    )
    await make.event(
        "SEND training in Leeds",
        slug="send-training-leeds",
        kind=EventKind.training,
        format=EventFormat.hybrid,
        topics=[send],
        region="yorkshire-and-the-humber",
        town="Leeds",
        starts_at=at(2026, 3, 22, 9),
        access=("step_free", "hearing_loop"),
    )
    await make.event(
        "Past conference",
        slug="past-conference",
        kind=EventKind.conference,
        format=EventFormat.in_person,
        region="london",
        town="Westminster",
        starts_at=at(2026, 2, 20, 9),
        ends_at=at(2026, 2, 20, 17),
    )
    await make.event("Draft webinar", slug="draft-webinar", topics=[send], publish=False)
    await make.event("Cancelled webinar", slug="cancelled-webinar", starts_at=at(2026, 3, 10, 9))
    await cancel(database, clock, "cancelled-webinar")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["send-webinar", "funding-meeting", "send-training-leeds"]),
        ("topic=send", ["send-webinar", "send-training-leeds"]),
        ("topic=workload", []),
        ("kind=meeting", ["funding-meeting"]),
        ("format=hybrid", ["send-training-leeds"]),
        ("format=online", ["send-webinar"]),
        ("region=london", ["funding-meeting"]),
        ("region=yorkshire-and-the-humber", ["send-training-leeds"]),
        ("from=2026-03-10", ["funding-meeting", "send-training-leeds"]),
        ("to=2026-03-12", ["send-webinar", "funding-meeting"]),
        ("from=2026-03-10&to=2026-03-12", ["funding-meeting"]),
        ("q=leeds", ["send-training-leeds"]),
        ("q=union+hall", ["funding-meeting"]),
        ("q=SEND+camden", []),
        ("access=step_free", ["funding-meeting", "send-training-leeds"]),
        ("access=step_free&access=hearing_loop", ["send-training-leeds"]),
        ("access=bsl&access=live_captions", ["send-webinar"]),
        ("past=true", ["past-conference"]),
        ("past=1&region=london", ["past-conference"]),
        ("past=true&kind=meeting", []),
        ("topic=send&format=online&access=bsl", ["send-webinar"]),
        ("topic=send&region=london", []),
        (
            "kind=training&region=yorkshire-and-the-humber&from=2026-03-20&q=leeds",
            ["send-training-leeds"],
        ),
    ],
)
async def test_listing_filters_events_when_filtered(
    client: httpx.AsyncClient, catalogue: None, query: str, expected: list[str]
) -> None:
    body = await get_json(client, f"/api/v1/events?{query}")
    assert [item["slug"] for item in body["items"]] == expected
    assert body["total"] == len(expected)
    assert body["next"] is None
    assert body["previous"] is None


async def test_listing_leaves_out_drafts_and_cancelled_events_when_unfiltered(
    client: httpx.AsyncClient, catalogue: None
) -> None:
    found = await slugs(client, "per_page=100") + await slugs(client, "past=true&per_page=100")
    assert "draft-webinar" not in found
    assert "cancelled-webinar" not in found


async def test_listing_uses_local_days_when_date_filters_cross_summer_time(
    client: httpx.AsyncClient, make: Factory
) -> None:
    # 23:30 UTC on 10 April is 00:30 on 11 April in London (BST).
    await make.event("Late", slug="late", starts_at=at(2026, 4, 10, 23, 30))
    assert await slugs(client, "from=2026-04-11") == ["late"]
    assert await slugs(client, "to=2026-04-10") == []
    assert await slugs(client, "from=2026-04-11&to=2026-04-11") == ["late"]


# Pages


@dataclass(frozen=True)
class Walk:
    pages: list[list[str]]
    bodies: list[Any]

    @property
    def slugs(self) -> list[str]:
        return [slug for page in self.pages for slug in page]


async def walk(client: httpx.AsyncClient, url: str, link: str) -> Walk:
    pages: list[list[str]] = []
    bodies: list[Any] = []
    next_url: str | None = url
    while next_url is not None:
        assert len(pages) < 50, "paging does not end"
        body = await get_json(client, next_url)
        bodies.append(body)
        pages.append([item["slug"] for item in body["items"]])
        next_url = body[link]
    return Walk(pages, bodies)


@pytest.fixture
async def eleven_webinars(make: Factory) -> list[str]:
    """Eleven webinars (three starting at the same moment) and one meeting, in listing order."""
    order: list[tuple[dt.datetime, str]] = []
    for n, day in enumerate([20, 3, 15, 9, 9, 9, 27, 11, 5, 30, 18]):
        slug = f"webinar-{n:02d}"
        await make.event(slug, slug=slug, starts_at=at(2026, 3, day, 12))
        order.append((at(2026, 3, day, 12), slug))
    await make.event("Meeting", slug="meeting", kind=EventKind.meeting, starts_at=at(2026, 3, 4))
    # Same start: the later-created (higher id) one comes later.
    return [slug for _, slug in sorted(order)]


async def test_listing_pages_cover_every_event_once_when_following_next(
    client: httpx.AsyncClient, eleven_webinars: list[str]
) -> None:
    walked = await walk(client, "/api/v1/events?kind=webinar&per_page=3", "next")

    assert walked.slugs == eleven_webinars
    assert [len(page) for page in walked.pages] == [3, 3, 3, 2]
    assert {body["total"] for body in walked.bodies} == {11}
    assert walked.bodies[0]["previous"] is None
    for body in walked.bodies[:-1]:
        link = urlsplit(body["next"])
        assert (link.scheme, link.netloc, link.path) == ("http", "testserver", "/api/v1/events")
        query = parse_qs(link.query)
        assert query["kind"] == ["webinar"]
        assert query["per_page"] == ["3"]
        assert "after" in query


async def test_listing_pages_walk_back_when_following_previous(
    client: httpx.AsyncClient, eleven_webinars: list[str]
) -> None:
    forward = await walk(client, "/api/v1/events?kind=webinar&per_page=3", "next")
    last_page_url = forward.bodies[-2]["next"]

    backward = await walk(client, last_page_url, "previous")

    assert backward.pages == list(reversed(forward.pages))
    assert backward.bodies[-1]["previous"] is None
    for body in backward.bodies[1:]:
        assert parse_qs(urlsplit(body["next"]).query)["kind"] == ["webinar"]


async def test_listing_pages_neither_repeat_nor_skip_when_events_added_while_paging(
    client: httpx.AsyncClient, make: Factory, eleven_webinars: list[str]
) -> None:
    first = await get_json(client, "/api/v1/events?per_page=4&kind=webinar")
    # Added before and after the cursor while someone reads the first page.
    await make.event("Early", slug="early", starts_at=at(2026, 3, 2, 12))
    await make.event("Late", slug="late", starts_at=at(2026, 3, 31, 12))

    rest = await walk(client, first["next"], "next")

    seen = [item["slug"] for item in first["items"]] + rest.slugs
    assert seen == [*eleven_webinars, "late"]
    assert len(seen) == len(set(seen))


async def test_listing_pages_latest_first_when_past(
    client: httpx.AsyncClient, make: Factory
) -> None:
    for day in (10, 20, 5, 15):
        await make.event(f"Old {day}", slug=f"old-{day}", starts_at=at(2026, 2, day, 9))

    walked = await walk(client, "/api/v1/events?past=true&per_page=3", "next")

    assert walked.slugs == ["old-20", "old-15", "old-10", "old-5"]
    assert "past=1" in walked.bodies[0]["next"]


async def test_listing_uses_settings_page_size_when_per_page_missing(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    for day in range(3, 8):
        await make.event(f"E{day}", starts_at=at(2026, 3, day, 12))
    app = create_app(settings.model_copy(update={"page_size": 2}), clock=clock, database=database)

    async with api_client(app) as client:
        body = await get_json(client, "/api/v1/events")

    assert len(body["items"]) == 2
    assert body["total"] == 5
    assert "per_page" not in parse_qs(urlsplit(body["next"]).query)


async def test_listing_honours_limit_and_per_page_up_to_the_documented_maximum(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    for day in range(1, 31):
        await make.event(f"E{day}", starts_at=at(2026, 4, day, 12))
    app = create_app(settings.model_copy(update={"page_size": 5}), clock=clock, database=database)
    async with api_client(app) as client:
        document = await get_json(client, "/api/v1/openapi.json")
        parameters = {
            p["name"]: p for p in document["paths"]["/api/v1/events"]["get"]["parameters"]
        }
        maximum = parameters["limit"]["schema"]["maximum"]
        assert maximum == parameters["per_page"]["schema"]["maximum"] == 100
        assert len((await get_json(client, "/api/v1/events"))["items"]) == 5
        limited = await get_json(client, "/api/v1/events?limit=2")
        assert len(limited["items"]) == 2
        assert parse_qs(urlsplit(limited["next"]).query)["per_page"] == ["2"]
        assert len((await get_json(client, "/api/v1/events?limit=25"))["items"]) == 25
        assert len((await get_json(client, "/api/v1/events?per_page=25"))["items"]) == 25
        everything = await get_json(client, f"/api/v1/events?limit={maximum}")
        assert len(everything["items"]) == everything["total"] == 30
        assert len((await get_json(client, "/api/v1/events?limit=7&per_page=7"))["items"]) == 7
        too_many = await get_json(client, f"/api/v1/events?limit={maximum + 1}", status=422)
        assert too_many["fields"] == {"limit": "limit must be a whole number from 1 to 100."}
        both = await get_json(client, "/api/v1/events?limit=3&per_page=4", status=422)
        assert set(both["fields"]) == {"limit"}


# Errors


async def test_listing_answers_422_with_fields_when_filters_invalid(
    client: httpx.AsyncClient,
) -> None:
    query = (
        "kind=party&format=carrier-pigeon&from=2026-13-01&to=soon&per_page=0&past=maybe"
        "&topic=Not+A+Slug!&region=@@&access=Step-Free!&after=%21%21&before=zz"
    )
    body = await get_json(client, f"/api/v1/events?{query}", status=422)

    assert body["status"] == 422
    assert body["code"] == "invalid_filter"
    assert body["message"]
    assert set(body["fields"]) == {
        "kind",
        "format",
        "from",
        "to",
        "per_page",
        "past",
        "topic",
        "region",
        "access",
        "after",
        "before",
    }
    assert all(isinstance(message, str) and message for message in body["fields"].values())


async def test_listing_answers_422_when_to_before_from(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/api/v1/events?from=2026-03-10&to=2026-03-09", status=422)
    assert set(body["fields"]) == {"to"}


async def test_listing_answers_422_when_per_page_too_large(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/api/v1/events?per_page=101", status=422)
    assert set(body["fields"]) == {"per_page"}


async def test_event_answers_json_404_when_missing(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/api/v1/events/no-such-event", status=404)
    assert body == {
        "status": 404,
        "code": "event_not_found",
        "message": "We could not find that event. It may have been moved or removed.",
    }


async def test_event_answers_exactly_as_missing_when_draft(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Draft", slug="draft", publish=False)
    draft = await client.get("/api/v1/events/draft")
    missing = await client.get("/api/v1/events/missing")
    assert draft.status_code == missing.status_code == 404
    assert draft.content == missing.content


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/series/nope", "series_not_found"),
        ("/api/v1/campaigns/nope", "campaign_not_found"),
        ("/api/v1/nothing-here", "not_found"),
        ("/api/v1/events/a/b", "not_found"),
        ("/api/v1/", "not_found"),
    ],
)
async def test_api_answers_json_404_when_not_found(
    client: httpx.AsyncClient, path: str, code: str
) -> None:
    body = await get_json(client, path, status=404)
    assert body["status"] == 404
    assert body["code"] == code


async def test_api_answers_json_405_when_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/events")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_event_is_shown_when_cancelled(client: httpx.AsyncClient, catalogue: None) -> None:
    body = await get_json(client, "/api/v1/events/cancelled-webinar")
    assert body["status"] == "cancelled"
    assert body["registration_state"] == "cancelled"
    assert body["registration_open"] is False


# Items


async def test_event_shows_every_public_field_when_fully_described(
    client: httpx.AsyncClient, make: Factory
) -> None:
    send = await make.topic("SEND")
    inclusion = await make.topic("Inclusion", sort_order=-1)
    series = await make.series("Small group interventions")
    campaign = await make.campaign("SEND National Crisis", starts_on=dt.date(2026, 3, 16))
    await make.event(
        "Local rally",
        slug="local-rally",
        summary="Meet colleagues.",
        description="# Agenda\n\n* Speeches",
        kind=EventKind.campaign_event,
        format=EventFormat.in_person,
        starts_at=at(2026, 3, 16, 17),
        ends_at=at(2026, 3, 16, 19),
        venue_name="Friends Meeting House",
        venue_address="6 Mount Street",
        town="Manchester",
        postcode="m2 5nS",
        region="north-west",
        topics=[send, inclusion],
        series=series,
        campaign=campaign,
        capacity=40,
        members_only=True,
        access=("quiet_room", "step_free"),
    )

    body = await get_json(client, "/api/v1/events/local-rally")

    assert body == {
        "slug": "local-rally",
        "title": "Local rally",
        "summary": "Meet colleagues.",
        "description": "# Agenda\n\n* Speeches",
        "kind": "campaign_event",
        "format": "in_person",
        "starts_at": "2026-03-16T17:00:00+00:00",
        "ends_at": "2026-03-16T19:00:00+00:00",
        "timezone": "Europe/London",
        "venue": {
            "name": "Friends Meeting House",
            "address": "6 Mount Street",
            "town": "Manchester",
            "postcode": "M2 5NS",
            "region": {"slug": "north-west", "name": "North West"},
        },
        "topics": [
            {"slug": "inclusion", "name": "Inclusion"},
            {"slug": "send", "name": "SEND"},
        ],
        "series": {"slug": "small-group-interventions", "title": "Small group interventions"},
        "campaign": {"slug": "send-national-crisis", "title": "SEND National Crisis"},
        "capacity": 40,
        "places_left": 40,
        "waiting_list": False,
        "registration_open": True,
        "registration_state": "open",
        "members_only": True,
        "status": "published",
        "access_provisions": [
            {"code": "step_free", "name": "Step-free access"},
            {"code": "quiet_room", "name": "Quiet room"},
        ],
        "url": "http://testserver/events/local-rally",
        "ics_url": "http://testserver/events/local-rally.ics",
    }
    listed = await get_json(client, "/api/v1/events")
    assert listed["items"] == [{k: v for k, v in body.items() if k != "description"}]


async def test_event_has_null_venue_and_groups_when_online_and_alone(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Online", slug="online")
    body = await get_json(client, "/api/v1/events/online")
    assert body["venue"] is None
    assert body["series"] is None
    assert body["campaign"] is None
    assert body["topics"] == []
    assert body["access_provisions"] == []


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "zone", "expected_start", "expected_end"),
    [
        # Europe/London: GMT until 01:00 UTC on Sunday 29 March 2026, then BST.
        (
            at(2026, 3, 28, 16),
            at(2026, 3, 28, 17),
            "Europe/London",
            "2026-03-28T16:00:00+00:00",
            "2026-03-28T17:00:00+00:00",
        ),
        (
            at(2026, 3, 29, 15),
            at(2026, 3, 29, 16),
            "Europe/London",
            "2026-03-29T16:00:00+01:00",
            "2026-03-29T17:00:00+01:00",
        ),
        (
            at(2026, 3, 29, 0, 30),
            at(2026, 3, 29, 2),
            "Europe/London",
            "2026-03-29T00:30:00+00:00",
            "2026-03-29T03:00:00+01:00",
        ),
        # BST until 01:00 UTC on Sunday 25 October 2026; 01:30 local happens twice.
        (
            at(2026, 10, 24, 15),
            at(2026, 10, 24, 16),
            "Europe/London",
            "2026-10-24T16:00:00+01:00",
            "2026-10-24T17:00:00+01:00",
        ),
        (
            at(2026, 10, 25, 16),
            at(2026, 10, 25, 17),
            "Europe/London",
            "2026-10-25T16:00:00+00:00",
            "2026-10-25T17:00:00+00:00",
        ),
        (
            at(2026, 10, 25, 0, 30),
            at(2026, 10, 25, 1, 30),
            "Europe/London",
            "2026-10-25T01:30:00+01:00",
            "2026-10-25T01:30:00+00:00",
        ),
        # An event in another zone shows that zone's offset (US clocks changed on 8 March).
        (
            at(2026, 3, 10, 16),
            at(2026, 3, 10, 17),
            "America/New_York",
            "2026-03-10T12:00:00-04:00",
            "2026-03-10T13:00:00-04:00",
        ),
    ],
)
async def test_event_times_carry_their_zone_offset_when_clocks_change(
    client: httpx.AsyncClient,
    make: Factory,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    zone: str,
    expected_start: str,
    expected_end: str,
) -> None:
    await make.event("Timed", slug="timed", starts_at=starts_at, ends_at=ends_at, timezone=zone)

    detail = await get_json(client, "/api/v1/events/timed")
    (listed,) = (await get_json(client, "/api/v1/events"))["items"]

    for body in (detail, listed):
        assert (body["starts_at"], body["ends_at"]) == (expected_start, expected_end)
        assert body["timezone"] == zone
        assert dt.datetime.fromisoformat(body["starts_at"]) == starts_at
        assert dt.datetime.fromisoformat(body["ends_at"]) == ends_at


# Places


async def test_event_reports_places_left_when_capacity_set(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    await make.event("Small", slug="small", capacity=12)
    await set_places_left(database, "small", 5)
    body = await get_json(client, "/api/v1/events/small")
    assert (body["capacity"], body["places_left"]) == (12, 5)
    assert (body["registration_state"], body["registration_open"]) == ("open", True)


async def test_event_reports_null_places_when_unlimited(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Big", slug="big")
    body = await get_json(client, "/api/v1/events/big")
    assert (body["capacity"], body["places_left"]) == (None, None)
    assert (body["registration_state"], body["registration_open"]) == ("open", True)


@pytest.mark.parametrize(
    ("waiting_list", "state", "registration_open"),
    [(True, "waiting_list", True), (False, "full", False)],
)
async def test_event_reports_full_state_when_no_places_left(
    client: httpx.AsyncClient,
    make: Factory,
    database: Database,
    waiting_list: bool,
    state: str,
    registration_open: bool,
) -> None:
    await make.event("Full", slug="full", capacity=3, waiting_list_enabled=waiting_list)
    await set_places_left(database, "full", 0)
    body = await get_json(client, "/api/v1/events/full")
    assert (body["capacity"], body["places_left"]) == (3, 0)
    assert body["waiting_list"] is waiting_list
    assert body["registration_state"] == state
    assert body["registration_open"] is registration_open


@pytest.mark.parametrize(
    ("opens", "closes", "state"),
    [
        (at(2026, 3, 3), None, "not_open_yet"),
        (None, at(2026, 3, 1), "closed"),
    ],
)
async def test_event_reports_registration_closed_when_outside_window(
    client: httpx.AsyncClient,
    make: Factory,
    opens: dt.datetime | None,
    closes: dt.datetime | None,
    state: str,
) -> None:
    await make.event(
        "Windowed",
        slug="windowed",
        starts_at=at(2026, 3, 20, 12),
        registration_opens_at=opens,
        registration_closes_at=closes,
    )
    body = await get_json(client, "/api/v1/events/windowed")
    assert (body["registration_state"], body["registration_open"]) == (state, False)


# Topics, series, campaigns


async def test_topics_count_upcoming_published_events(
    client: httpx.AsyncClient, make: Factory
) -> None:
    send = await make.topic("SEND", summary="Special educational needs.", featured=True)
    await make.topic("Workload", sort_order=5)
    await make.event("A", topics=[send])
    await make.event("B", topics=[send], starts_at=at(2026, 4, 1, 9))
    await make.event("Past", topics=[send], starts_at=at(2026, 2, 1, 9))
    await make.event("Draft", topics=[send], publish=False)

    body = await get_json(client, "/api/v1/topics")

    assert body == [
        {
            "slug": "send",
            "name": "SEND",
            "summary": "Special educational needs.",
            "featured": True,
            "upcoming_events": 2,
            "url": "http://testserver/topics/send",
        },
        {
            "slug": "workload",
            "name": "Workload",
            "summary": "",
            "featured": False,
            "upcoming_events": 0,
            "url": "http://testserver/topics/workload",
        },
    ]


async def test_series_lists_partners_and_public_sessions_in_order(
    client: httpx.AsyncClient, make: Factory
) -> None:
    partner = await make.partner("SEN Association", url="https://sen.example.org")
    series = await make.series(
        "Small group interventions", summary="Four sessions.", partners=[partner]
    )
    await make.event("Session 2", slug="session-2", series=series, starts_at=at(2026, 3, 17, 16))
    await make.event("Session 1", slug="session-1", series=series, starts_at=at(2026, 2, 24, 16))
    await make.event("Session 3", slug="session-3", series=series, starts_at=at(2026, 3, 31, 15))
    await make.event("Session 4", slug="session-4", series=series, publish=False)

    body = await get_json(client, "/api/v1/series/small-group-interventions")

    assert body["slug"] == "small-group-interventions"
    assert body["title"] == "Small group interventions"
    assert body["summary"] == "Four sessions."
    assert body["url"] == "http://testserver/series/small-group-interventions"
    assert body["partners"] == [
        {
            "slug": "sen-association",
            "name": "SEN Association",
            "url": "https://sen.example.org",
            "description": "",
        }
    ]
    assert [s["slug"] for s in body["sessions"]] == ["session-1", "session-2", "session-3"]
    assert body["sessions"][0]["registration_state"] == "past"
    assert body["sessions"][2]["starts_at"] == "2026-03-31T16:00:00+01:00"


@pytest.fixture
async def campaign_day(make: Factory) -> None:
    campaign = await make.campaign("SEND National Crisis", starts_on=dt.date(2026, 3, 16))
    for slug, town, postcode, region, hour in [
        ("camden-rally", "Camden", "NW1 2AB", "london", 17),
        ("manchester-rally", "Manchester", "M1 1AA", "north-west", 16),
        ("leeds-rally", "Leeds", "LS1 4AP", "yorkshire-and-the-humber", 18),
    ]:
        await make.event(
            slug,
            slug=slug,
            kind=EventKind.campaign_event,
            format=EventFormat.in_person,
            campaign=campaign,
            town=town,
            postcode=postcode,
            region=region,
            starts_at=at(2026, 3, 16, hour),
        )
    await make.event("Draft rally", slug="draft-rally", campaign=campaign, publish=False)


@pytest.mark.parametrize(
    ("query", "expected", "widened"),
    [
        ("", ["manchester-rally", "camden-rally", "leeds-rally"], None),
        ("region=north-west", ["manchester-rally"], None),
        ("place=camden", ["camden-rally"], None),
        ("place=LS1+4AP", ["leeds-rally"], None),
        ("place=M1", ["manchester-rally"], None),
        ("place=M4", ["manchester-rally"], "M"),
        ("region=london&place=leeds", [], None),
        # Listing filters are not the finder's: they are ignored here.
        ("kind=party", ["manchester-rally", "camden-rally", "leeds-rally"], None),
    ],
)
async def test_campaign_finds_events_when_narrowed_by_region_and_place(
    client: httpx.AsyncClient,
    campaign_day: None,
    query: str,
    expected: list[str],
    widened: str | None,
) -> None:
    body = await get_json(client, f"/api/v1/campaigns/send-national-crisis?{query}")
    assert [event["slug"] for event in body["events"]] == expected
    assert body["widened_to_area"] == widened
    assert body["total_in_campaign"] == 3
    assert body["starts_on"] == body["ends_on"] == "2026-03-16"
    assert body["url"] == "http://testserver/campaigns/send-national-crisis"


async def test_campaign_answers_422_when_region_unreadable(
    client: httpx.AsyncClient, campaign_day: None
) -> None:
    body = await get_json(client, "/api/v1/campaigns/send-national-crisis?region=N%20W!", 422)
    assert body["code"] == "invalid_filter"
    assert set(body["fields"]) == {"region"}


# The joining link


def every_url(event_slugs: list[str]) -> Iterator[str]:
    yield from [
        "/api/v1/events",
        "/api/v1/events?past=true",
        "/api/v1/events?per_page=1",
        "/api/v1/events?q=secret-room",
        "/api/v1/events?kind=nope",
        "/api/v1/topics",
        "/api/v1/series/the-series",
        "/api/v1/campaigns/the-campaign",
        "/api/v1/campaigns/the-campaign?place=M1",
        "/api/v1/events/missing",
        "/api/v1/openapi.json",
    ]
    yield from (f"/api/v1/events/{slug}" for slug in event_slugs)


async def test_responses_never_contain_joining_link(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND")
    series = await make.series("The series")
    campaign = await make.campaign("The campaign")
    created = [
        await make.event(topics=[topic], series=series),
        await make.event(campaign=campaign, format=EventFormat.hybrid, town="Manchester"),
        await make.event(starts_at=at(2026, 2, 1, 9)),
        await make.event(joining_url="https://meet.example.org/secret-room-xyz", capacity=5),
    ]
    assert all(SECRET in event.joining_url for event in created)

    for url in every_url([event.slug for event in created]):
        response = await client.get(url)
        assert response.status_code in (200, 404, 422), url
        assert SECRET not in response.text, url
        if not url.endswith("/openapi.json"):  # which documents the organisers' write API
            assert "joining_url" not in response.text, url


# The page cache


def api_client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_listing_served_from_cache_when_asked_again_within_ttl(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    cached = settings.model_copy(update={"page_cache_seconds": 10})
    app = create_app(cached, clock=clock, database=database)
    await make.event("First", slug="first", capacity=10)

    async with api_client(app) as client:
        before = await client.get("/api/v1/events")
        detail = await client.get("/api/v1/events/first")
        # Changed behind this process's back (as another process would).
        await set_places_left(database, "first", 9)
        await make.event("Second", slug="second")
        again = await client.get("/api/v1/events")
        detail_again = await client.get("/api/v1/events/first")
        other_query = await client.get("/api/v1/events?per_page=5")

    assert again.content == before.content
    assert detail_again.content == detail.content
    assert [item["slug"] for item in other_query.json()["items"]] == ["first", "second"]
    assert other_query.json()["items"][0]["places_left"] == 9


async def test_listing_reflects_changes_when_cache_disabled(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    await make.event("First", slug="first", capacity=10)
    assert (await get_json(client, "/api/v1/events/first"))["places_left"] == 10
    await set_places_left(database, "first", 9)
    assert (await get_json(client, "/api/v1/events/first"))["places_left"] == 9
