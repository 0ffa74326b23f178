"""The organiser dashboard: only manageable events, late access requests, two charts."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser.models import Organiser, OrganiserRole
from events.registration.models import Registration
from tests.factories import Factory, register
from tests.organiser.helpers import PASSWORD, give_event, new_organiser, share_event
from tests.registration.helpers import csrf_token

DAY = dt.timedelta(days=1)


@asynccontextmanager
async def _browser(app: Starlette, organiser: Organiser) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in through the login form."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        token = await csrf_token(browser, "/organiser/login")
        signed = await browser.post(
            "/organiser/login",
            data={"csrf_token": token, "email": organiser.email, "password": PASSWORD},
        )
        assert signed.status_code == 303
        yield browser


@pytest.fixture
async def signed(app: Starlette, organiser: Organiser) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(app, organiser) as browser:
        yield browser


@pytest.fixture
async def signed_admin(app: Starlette, admin: Organiser) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(app, admin) as browser:
        yield browser


def _svg(page: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', page, re.S)
    assert found, f"no chart {chart_id}"
    return ET.fromstring(found.group(0))  # well-formed XML, or this raises


def _table(page: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table [^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def _needs(*codes: str) -> dict[str, object]:
    return {"access_requirements": list(codes), "consents": ["privacy", "access_data"]}


async def _mark_attended(database: Database, emails: list[str]) -> None:
    async with unit_of_work(database.writer) as session:
        await session.execute(
            update(Registration).where(Registration.email.in_(emails)).values(attended=True)
        )


async def test_the_dashboard_lists_only_the_events_the_organiser_manages(
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    signed: httpx.AsyncClient,
    signed_admin: httpx.AsyncClient,
) -> None:
    other = await new_organiser(database, clock)
    own = await make.event("Own webinar on workload", capacity=30)
    shared = await make.event("Shared pay briefing", capacity=None)
    theirs = await make.event("Someone else's rally")
    await give_event(database, own, organiser)
    await give_event(database, shared, other)
    await share_event(database, shared, organiser)
    await give_event(database, theirs, other)
    for n in range(2):
        await register(make, own, f"own{n}@example.org")
    for n in range(3):
        await register(make, theirs, f"theirs{n}@example.org")

    page = (await signed.get("/organiser/")).text
    assert "Own webinar on workload" in page and "Shared pay briefing" in page
    assert "Someone else" not in page
    assert f'href="/organiser/events/{own.slug}"' in page
    assert re.search(r"Own webinar on workload.*?>2 of 30<", page, re.S)
    today = _table(page, "table-registrations")[1]
    assert today[1] == "2"  # only this organiser's registrations are counted

    everything = (await signed_admin.get("/organiser/")).text
    assert "Someone else" in everything
    assert _table(everything, "table-registrations")[1][1] == "5"


async def test_late_requests_for_interpreters_and_captions_are_flagged(
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    app: Starlette,
) -> None:
    now = clock.now()
    soon = await make.event("Soon: SEND webinar", starts_at=now + 5 * DAY)
    later = await make.event("Later: pensions", starts_at=now + 30 * DAY)
    booked_early = await make.event("Booked early: Ofsted", starts_at=now + 10 * DAY)
    not_mine = await make.event("Not mine: rally", starts_at=now + 3 * DAY)
    for event in (soon, later, booked_early):
        await give_event(database, event, organiser)
    other = await new_organiser(database, clock)
    await give_event(database, not_mine, other)

    clock.set(now - 10 * DAY)  # 20 days before "booked early": in good time
    await register(make, booked_early, "early@example.org", **_needs("bsl"))
    clock.set(now)
    await register(make, soon, "a@example.org", **_needs("bsl", "step_free"))
    await register(make, soon, "b@example.org", **_needs("live_captions"))
    clock.set(now + DAY)
    await register(make, soon, "c@example.org", **_needs("live_captions"))
    await register(make, soon, "d@example.org", **_needs("step_free"))
    await register(make, later, "e@example.org", **_needs("bsl"))
    await register(make, not_mine, "f@example.org", **_needs("bsl"))

    async with _browser(app, organiser) as browser:  # signed in after the clock moved
        page = (await browser.get("/organiser/")).text
    section = page.split('id="warnings-title"', 1)[1].split("</section>", 1)[0]
    items = [
        re.sub(r"<[^>]+>|\s+", " ", li).strip()
        for li in re.findall(r"<li>(.*?)</li>", section, re.S)
    ]
    assert len(items) == 2, items
    assert "Soon: SEND webinar" in items[0]
    assert "British Sign Language interpreter, 1 request, the latest made 5 days before" in items[0]
    assert "Live captions, 2 requests, the latest made 4 days before" in items[1]
    assert "Later" not in section and "Booked early" not in section and "Not mine" not in section


async def test_no_warnings_says_so(signed: httpx.AsyncClient) -> None:
    page = (await signed.get("/organiser/")).text
    assert "No late requests" in page and "No upcoming events" in page


async def test_the_registrations_chart_and_its_table_show_the_same_numbers(
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    signed: httpx.AsyncClient,
) -> None:
    now = clock.now()
    event = await make.event("Curriculum webinar", starts_at=now + 20 * DAY)
    await give_event(database, event, organiser)
    counts = {3: 2, 1: 4, 0: 1}  # days ago -> registrations made that day
    for ago, count in counts.items():
        clock.set(now - ago * DAY)
        for n in range(count):
            await register(make, event, f"r{ago}-{n}@example.org")
    clock.set(now)
    clock.set(now - 40 * DAY)  # outside the 30 days: not drawn
    older = await make.event("Old event", starts_at=now + 20 * DAY)
    await give_event(database, older, organiser)
    await register(make, older, "old@example.org")
    clock.set(now)

    page = (await signed.get("/organiser/")).text
    svg = _svg(page, "chart-registrations")
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-registrations-title chart-registrations-desc"
    assert svg.findtext("title") == "Registrations per day, last 30 days"
    desc = svg.findtext("desc") or ""
    assert desc.startswith("7 registrations from") and "with 4" in desc
    assert "style" not in page.split('id="chart-registrations"', 1)[1].split("</svg>", 1)[0]
    bars = svg.findall(".//rect")
    assert len(bars) == 30
    heights = [float(b.get("height", "0")) for b in bars]
    assert heights[-2] == max(heights) and heights[-1] > 0 and heights[0] == 0
    assert [b.findtext("title") for b in bars][-4:] == [
        "27 Feb: 2",
        "28 Feb: 0",
        "1 Mar: 4",
        "2 Mar: 1",
    ]
    rows = _table(page, "table-registrations")
    assert rows[0] == ["Day", "Registrations"]
    assert rows[1:5] == [
        ["Monday 2 March 2026", "1"],
        ["Sunday 1 March 2026", "4"],
        ["Saturday 28 February 2026", "0"],
        ["Friday 27 February 2026", "2"],
    ]
    assert len(rows) == 31


async def test_the_attendance_chart_shows_each_past_events_rate(
    make: Factory,
    database: Database,
    clock: FrozenClock,
    organiser: Organiser,
    app: Starlette,
) -> None:
    now = clock.now()
    past = await make.event("Behaviour <& wellbeing> webinar", starts_at=now + DAY)
    empty = await make.event("Nobody came to this", starts_at=now + DAY)
    upcoming = await make.event("Still to come", starts_at=now + 10 * DAY)
    for event in (past, empty, upcoming):
        await give_event(database, event, organiser)
    emails = [f"p{n}@example.org" for n in range(4)]
    for email in emails:
        await register(make, past, email)
    await register(make, upcoming, "u@example.org")
    clock.advance(3 * DAY)
    await _mark_attended(database, emails[:3])

    async with _browser(app, organiser) as browser:  # signed in after the clock moved
        page = (await browser.get("/organiser/")).text
    svg = _svg(page, "chart-attendance")
    assert svg.findtext("title") == "Attendance rate per past event"
    assert "Behaviour <& wellbeing> webinar: 75% (3 of 4)" in (svg.findtext("desc") or "")
    texts = [t.text for t in svg.iter("text")]
    assert "Behaviour <& wellbeing> webinar" in texts and "75%" in texts
    fill = [r for r in svg.iter("rect") if r.get("class") == "chart__bar"]
    assert [float(r.get("width", "0")) for r in fill] == [270.0]  # 75% of 360
    rows = _table(page, "table-attendance")
    assert rows[1:] == [["Behaviour &lt;&amp; wellbeing&gt; webinar", "3", "4", "75%"]]
    assert "Nobody came" not in page.split('id="attendance-title"', 1)[1]


async def test_two_organisers_see_disjoint_dashboards(
    make: Factory, database: Database, clock: FrozenClock, app: Starlette
) -> None:
    first = await new_organiser(database, clock, role=OrganiserRole.organiser)
    second = await new_organiser(database, clock, role=OrganiserRole.organiser)
    a = await make.event("First's event")
    b = await make.event("Second's event")
    await give_event(database, a, first)
    await give_event(database, b, second)
    async with _browser(app, first) as one, _browser(app, second) as two:
        page_one = (await one.get("/organiser/")).text
        page_two = (await two.get("/organiser/")).text
    assert "First's event" in page_one.replace("&#39;", "'")
    assert "Second's event" not in page_one.replace("&#39;", "'")
    assert "Second's event" in page_two.replace("&#39;", "'")
    assert "First's event" not in page_two.replace("&#39;", "'")
