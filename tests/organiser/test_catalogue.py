"""The console's catalogue pages: series, campaigns, partner organisations and topics."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from events.audit.models import AuditEntry
from events.catalog.models import Campaign, Series, Topic
from events.db import Database
from events.organiser.models import Organiser
from tests.factories import Factory
from tests.registration.helpers import csrf_token


async def test_an_organiser_creates_a_series_with_partners(
    console: httpx.AsyncClient, database: Database, make: Factory, organiser: Organiser
) -> None:
    await make.partner("SEN Association")
    await make.partner("Other Partner")
    form = await console.get("/organiser/catalogue/series/new")
    assert "SEN Association" in form.text
    csrf = await csrf_token(console, "/organiser/catalogue/series/new")
    response = await console.post(
        "/organiser/catalogue/series/new",
        data={
            "csrf_token": csrf,
            "title": "Small group interventions",
            "summary": "Four sessions",
            "partners": ["sen-association"],
        },
    )
    assert response.status_code == 303
    async with database.reader() as session:
        series = (
            await session.execute(select(Series).options(selectinload(Series.partners)))
        ).scalar_one()
        entries = list((await session.execute(select(AuditEntry))).scalars())
    assert series.title == "Small group interventions"
    assert [p.name for p in series.partners] == ["SEN Association"]
    assert [e.action for e in entries] == ["series.created"]
    assert entries[0].actor_label == organiser.email
    index = await console.get("/organiser/catalogue")
    assert "Small group interventions" in index.text and "SEN Association" in index.text


async def test_editing_a_series_changes_its_partners_and_keeps_its_address(
    console: httpx.AsyncClient, database: Database, make: Factory
) -> None:
    first = await make.partner("First Partner")
    await make.partner("Second Partner")
    series = await make.series("Webinars", partners=[first])
    page = await console.get(f"/organiser/catalogue/series/{series.slug}")
    assert 'value="first-partner" checked' in page.text
    csrf = await csrf_token(console, f"/organiser/catalogue/series/{series.slug}")
    response = await console.post(
        f"/organiser/catalogue/series/{series.slug}",
        data={"csrf_token": csrf, "title": "Webinars renamed", "partners": ["second-partner"]},
    )
    assert response.status_code == 303
    async with database.reader() as session:
        saved = (
            await session.execute(select(Series).options(selectinload(Series.partners)))
        ).scalar_one()
    assert saved.slug == series.slug and saved.title == "Webinars renamed"
    assert [p.slug for p in saved.partners] == ["second-partner"]


async def test_campaign_dates_are_validated_and_input_is_kept(
    console: httpx.AsyncClient, database: Database
) -> None:
    csrf = await csrf_token(console, "/organiser/catalogue/campaigns/new")
    response = await console.post(
        "/organiser/catalogue/campaigns/new",
        data={
            "csrf_token": csrf,
            "title": "SEND National Crisis",
            "starts_on": "2026-05-10",
            "ends_on": "2026-05-01",
        },
    )
    assert response.status_code == 422
    assert 'id="ends_on-error"' in response.text
    assert "on or after the day it starts" in response.text
    assert 'value="SEND National Crisis"' in response.text
    bad_date = await console.post(
        "/organiser/catalogue/campaigns/new",
        data={"csrf_token": csrf, "title": "Campaign", "starts_on": "10/05/2026"},
    )
    assert bad_date.status_code == 422 and 'id="starts_on-error"' in bad_date.text
    async with database.reader() as session:
        assert (await session.execute(select(Campaign))).first() is None


async def test_partner_website_must_be_a_web_address(console: httpx.AsyncClient) -> None:
    csrf = await csrf_token(console, "/organiser/catalogue/partners/new")
    response = await console.post(
        "/organiser/catalogue/partners/new",
        data={"csrf_token": csrf, "name": "Partner", "url": "javascript:alert(1)"},
    )
    assert response.status_code == 422 and 'id="url-error"' in response.text


async def test_only_admins_create_or_change_topics(
    console: httpx.AsyncClient,
    admin_console: httpx.AsyncClient,
    database: Database,
    make: Factory,
) -> None:
    topic = await make.topic("SEND")
    page = await console.get("/organiser/catalogue/topics/new")
    assert "Only admins can create or change topics." in page.text
    csrf = await csrf_token(console, "/organiser/catalogue")
    refused = await console.post(
        f"/organiser/catalogue/topics/{topic.slug}", data={"csrf_token": csrf, "name": "Hijacked"}
    )
    assert refused.status_code == 403
    csrf = await csrf_token(admin_console, f"/organiser/catalogue/topics/{topic.slug}")
    done = await admin_console.post(
        f"/organiser/catalogue/topics/{topic.slug}",
        data={"csrf_token": csrf, "name": "Special educational needs", "featured": "1"},
    )
    assert done.status_code == 303
    async with database.reader() as session:
        saved = (await session.execute(select(Topic))).scalar_one()
    assert saved.name == "Special educational needs" and saved.featured
    assert saved.slug == "send"


async def test_catalogue_posts_need_csrf_and_unknown_items_are_404(
    console: httpx.AsyncClient, database: Database
) -> None:
    refused = await console.post("/organiser/catalogue/partners/new", data={"name": "Partner"})
    assert refused.status_code == 403
    assert (await console.get("/organiser/catalogue/series/no-such-series")).status_code == 404
    assert (await console.get("/organiser/catalogue/widgets/new")).status_code == 404
    async with database.reader() as session:
        assert (await session.execute(select(Series))).first() is None
