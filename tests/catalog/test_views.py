"""Public catalogue pages, driven through the app as a browser would."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import httpx
from sqlalchemy import text

from events.catalog.models import EventFormat, EventKind
from events.db import Database, unit_of_work
from tests.factories import Factory

SECRET = "secret-room"


class Landmarks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> Landmarks:
    parser = Landmarks()
    parser.feed(html)
    return parser


def _assert_accessible_shape(html: str) -> None:
    parsed = _parse(html)
    names = [tag for tag, _ in parsed.tags]
    assert names.count("h1") == 1, "every page has exactly one h1"
    assert names.count("main") == 1
    assert "header" in names and "footer" in names and "nav" in names
    first_link = next(attrs for tag, attrs in parsed.tags if tag == "a")
    assert first_link.get("href") == "#main", "the first link skips to the main content"
    ids = {attrs["id"] for _, attrs in parsed.tags if attrs.get("id")}
    for tag, attrs in parsed.tags:
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "submit"}:
            assert attrs.get("id"), f"{tag} without id cannot be labelled"
            assert re.search(rf'<label[^>]+for="{re.escape(attrs["id"] or "")}"', html), (
                f"{tag}#{attrs['id']} has no label"
            )
    assert "html" in names and re.search(r'<html lang="en', html)
    assert ids  # main has an id for the skip link


async def test_home_lists_upcoming_events_topics_and_campaigns(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND", featured=True, summary="Special educational needs")
    campaign = await make.campaign("SEND National Crisis")
    await make.event("Supporting autistic pupils", topics=(topic,))
    await make.event("Local rally", campaign=campaign, format=EventFormat.in_person)
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Supporting autistic pupils" in html
    assert "SEND National Crisis" in html
    assert 'href="/topics/send"' in html
    _assert_accessible_shape(html)


async def test_event_page_shows_public_details_in_the_event_zone(
    client: httpx.AsyncClient, make: Factory
) -> None:
    # 16:00 in London on 10 March (GMT) is 16:00 UTC.
    start = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    event = await make.event(
        "SENCO workload: know your rights",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=90),
        capacity=40,
        summary="What the law says about SENCO time.",
        description="## Who is it for\n\nSENCOs in **mainstream** schools.",
        access=("live_captions", "bsl"),
        organiser_name="Jo Bloggs",
        organiser_email="jo@example.org",
    )
    response = await client.get(f"/events/{event.slug}")
    assert response.status_code == 200
    html = response.text
    assert "Tuesday 10 March 2026, 4pm to 5:30pm GMT" in html
    assert "Europe/London" in html
    assert "40 places left" in html
    assert "Live captions" in html and "British Sign Language interpreter" in html
    assert "<strong>mainstream</strong>" in html
    assert "jo@example.org" in html
    assert SECRET not in html
    _assert_accessible_shape(html)


async def test_event_times_follow_the_clock_change_in_march(
    client: httpx.AsyncClient, make: Factory
) -> None:
    # British Summer Time starts 01:00 UTC on 29 March 2026.
    before = await make.event(
        "Before the change", starts_at=dt.datetime(2026, 3, 28, 16, 0, tzinfo=dt.UTC)
    )
    after = await make.event(
        "After the change", starts_at=dt.datetime(2026, 3, 30, 15, 0, tzinfo=dt.UTC)
    )
    html_before = (await client.get(f"/events/{before.slug}")).text
    html_after = (await client.get(f"/events/{after.slug}")).text
    assert "Saturday 28 March 2026, 4pm to 5pm GMT" in html_before
    assert "Monday 30 March 2026, 4pm to 5pm BST" in html_after


async def test_event_times_follow_the_clock_change_in_october(
    client: httpx.AsyncClient, make: Factory
) -> None:
    # BST ends 01:00 UTC on 25 October 2026; an event across the change shows both zones.
    across = await make.event(
        "Overnight vigil",
        starts_at=dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 10, 25, 3, 0, tzinfo=dt.UTC),
    )
    html = (await client.get(f"/events/{across.slug}")).text
    assert "Saturday 24 October 2026, 11pm BST to Sunday 25 October 2026, 3am GMT" in html


async def test_draft_and_missing_events_answer_the_same_friendly_404(
    client: httpx.AsyncClient, make: Factory
) -> None:
    draft = await make.event("Secret draft", publish=False)
    missing = await client.get("/events/no-such-event")
    hidden = await client.get(f"/events/{draft.slug}")
    assert missing.status_code == hidden.status_code == 404
    assert "Page not found" in hidden.text
    assert "Secret draft" not in hidden.text
    _assert_accessible_shape(hidden.text)


async def test_cancelled_event_page_says_so(client: httpx.AsyncClient, make: Factory) -> None:
    from events import lifecycle as service
    from events.db import unit_of_work

    event = await make.event("Called off")
    async with unit_of_work(make.database.writer) as session:
        merged = await session.merge(event)
        await service.cancel_event(session, make.clock, merged)
    html = (await client.get(f"/events/{event.slug}")).text
    assert "This event has been cancelled" in html


async def test_joining_link_never_appears_on_public_pages(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND")
    series = await make.series("Small group interventions")
    campaign = await make.campaign("Campaign day")
    event = await make.event(
        "Session one",
        topics=(topic,),
        series=series,
        campaign=campaign,
        format=EventFormat.hybrid,
    )
    pages = [
        "/",
        "/events",
        f"/events/{event.slug}",
        "/topics",
        f"/topics/{topic.slug}",
        f"/series/{series.slug}",
        f"/campaigns/{campaign.slug}",
        "/events?q=Session",
    ]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text, path
        if path != "/topics":
            assert "Session one" in response.text, path


async def test_series_page_lists_sessions_in_order_and_marks_past_ones(
    client: httpx.AsyncClient, make: Factory
) -> None:
    partner = await make.partner("SEN Partners Association", url="https://partners.example.org")
    series = await make.series("Small group interventions", partners=[partner])
    now = make.clock.now()
    await make.event("Session 3", series=series, starts_at=now + dt.timedelta(days=21))
    await make.event("Session 1", series=series, starts_at=now - dt.timedelta(days=7))
    await make.event("Session 2", series=series, starts_at=now + dt.timedelta(days=7))
    html = (await client.get(f"/series/{series.slug}")).text
    assert html.index("Session 1") < html.index("Session 2") < html.index("Session 3")
    assert "Past session" in html
    assert "SEN Partners Association" in html
    _assert_accessible_shape(html)


async def test_topic_page_shows_events_series_and_advice(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND", advice="Ask for your **SENCO time** in writing.")
    other = await make.topic("Pay")
    series = await make.series("Interventions")
    await make.event("In topic", topics=(topic,), series=series)
    await make.event("Elsewhere", topics=(other,))
    html = (await client.get(f"/topics/{topic.slug}")).text
    assert "In topic" in html and "Elsewhere" not in html
    assert "Interventions" in html
    assert "<strong>SENCO time</strong>" in html
    assert (await client.get("/topics/nope")).status_code == 404


async def test_campaign_page_groups_by_region_and_finds_by_town_or_postcode(
    client: httpx.AsyncClient, make: Factory
) -> None:
    campaign = await make.campaign("SEND National Crisis")
    day = make.clock.now() + dt.timedelta(days=20)
    local = [
        ("Manchester rally", "Manchester", "M1 5AN", "north-west"),
        ("Salford lobby", "Salford", "M5 4WT", "north-west"),
        ("Cardiff meeting", "Cardiff", "CF10 1AH", "wales"),
        ("Leeds drop-in", "Leeds", "LS1 4DY", "yorkshire-and-the-humber"),
    ]
    for title, town, postcode, region in local:
        await make.event(
            title,
            campaign=campaign,
            town=town,
            postcode=postcode,
            region=region,
            starts_at=day,
            kind=EventKind.campaign_event,
            format=EventFormat.in_person,
        )
    everything = (await client.get(f"/campaigns/{campaign.slug}")).text
    assert "4 local events" in everything
    assert everything.index("North West") < everything.index("Manchester rally")
    _assert_accessible_shape(everything)

    by_region = (await client.get(f"/campaigns/{campaign.slug}?region=wales")).text
    assert "Cardiff meeting" in by_region and "Manchester rally" not in by_region

    by_town = (await client.get(f"/campaigns/{campaign.slug}?place=leeds")).text
    assert "Leeds drop-in" in by_town and "Cardiff meeting" not in by_town

    by_postcode = (await client.get(f"/campaigns/{campaign.slug}?place=cf10%201xx")).text
    assert "Cardiff meeting" in by_postcode and "Leeds drop-in" not in by_postcode

    # Nothing in M9 itself: the wider M area is offered instead, and says so.
    widened = (await client.get(f"/campaigns/{campaign.slug}?place=M9")).text
    assert "Manchester rally" in widened and "Salford lobby" in widened
    assert "wider M postcode area" in widened
    assert "Cardiff meeting" not in widened


async def test_unknown_pages_get_the_friendly_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    _assert_accessible_shape(response.text)


async def test_health_answers_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "at head"}
    assert ready.headers["cache-control"] == "no-store"


async def test_not_ready_when_the_schema_is_behind_the_migrations(
    client: httpx.AsyncClient, database: Database
) -> None:
    async with unit_of_work(database.writer) as session:
        head = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        await session.execute(text("UPDATE alembic_version SET version_num = 'a5a982e771d9'"))
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["migrations"] == "behind"
        assert (await client.get("/healthz")).status_code == 200  # alive all the same
    finally:  # the database is shared by the tests that follow
        async with unit_of_work(database.writer) as session:
            await session.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )


async def test_every_response_carries_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
