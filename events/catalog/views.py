"""Public catalogue pages: home, listing, event, topics, series, campaigns, health."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events import schema
from events.catalog import queries
from events.catalog.schemas import ListingFilters, parse_listing
from events.errors import InvalidInput
from events.web.context import app_context
from events.web.pages import cached_html
from events.web.uow import unit_of_work


async def home(request: Request) -> Response:
    context = app_context(request)

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        today = now.astimezone(context.settings.zone).date()
        return context.renderer.render(
            "catalog/home.html",
            now=now,
            events=await queries.upcoming_events(session, now=now, limit=6),
            topics=await queries.topics(session, featured_only=True),
            topic_counts=await queries.upcoming_counts_by_topic(session, now=now),
            campaigns=await queries.campaigns(session, today=today),
            series_list=await queries.all_series(session),
        )

    return await cached_html(request, build)


def _lenient_filters(request: Request) -> tuple[ListingFilters, dict[str, str]]:
    """The filters that could be read, and a message for each that could not: the page still
    answers, with the unreadable filters named next to their fields."""
    try:
        return parse_listing(request.query_params), {}
    except InvalidInput as exc:
        return parse_listing(_without(request, exc.fields)), exc.fields


DATE_EXAMPLE_AHEAD = dt.timedelta(days=14)


async def listing(request: Request) -> Response:
    context = app_context(request)

    async def build(session: AsyncSession, now: dt.datetime) -> tuple[str, int]:
        filters, errors = _lenient_filters(request)
        page = await queries.event_listing(
            session,
            filters,
            now=now,
            zone=context.settings.zone,
            per_page=filters.per_page or context.settings.page_size,
        )
        # The date hint's example: a day soon, never one already past.
        example = now.astimezone(context.settings.zone).date() + DATE_EXAMPLE_AHEAD
        html = context.renderer.render(
            "catalog/listing.html",
            now=now,
            date_example=example.isoformat(),
            filters=filters,
            errors=errors,
            page=page,
            topics=await queries.topics(session),
            regions=await queries.regions(session),
            provisions=await queries.access_provisions(session),
        )
        return html, 422 if errors else 200

    return await cached_html(request, build)


def _without(request: Request, bad: dict[str, str]) -> QueryParams:
    """The request's query parameters minus those that could not be parsed."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in bad]
    return QueryParams(kept)


async def event_page(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        event = await queries.event_by_slug(session, slug)
        return context.renderer.render("catalog/event.html", now=now, event=event)

    return await cached_html(request, build)


async def topic_index(request: Request) -> Response:
    context = app_context(request)

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        return context.renderer.render(
            "catalog/topics.html",
            now=now,
            topics=await queries.topics(session),
            topic_counts=await queries.upcoming_counts_by_topic(session, now=now),
        )

    return await cached_html(request, build)


async def topic_page(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        topic = await queries.topic_by_slug(session, slug)
        return context.renderer.render(
            "catalog/topic.html",
            now=now,
            topic=topic,
            events=await queries.topic_events(session, topic, now=now, limit=50),
            series_list=await queries.topic_series(session, topic),
        )

    return await cached_html(request, build)


async def series_page(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        series = await queries.series_by_slug(session, slug)
        return context.renderer.render(
            "catalog/series.html",
            now=now,
            series=series,
            sessions=await queries.series_sessions(session, series),
        )

    return await cached_html(request, build)


async def campaign_page(request: Request) -> Response:
    context = app_context(request)
    slug = request.path_params["slug"]

    async def build(session: AsyncSession, now: dt.datetime) -> str:
        filters, errors = _lenient_filters(request)
        campaign = await queries.campaign_by_slug(session, slug)
        found = await queries.campaign_events(
            session, campaign, region=filters.region, place=filters.place
        )
        regions = await queries.regions(session)
        grouped: dict[str, list[object]] = {region.name: [] for region in regions}
        grouped["Other places"] = []
        for event in found.events:
            grouped[event.region.name if event.region else "Other places"].append(event)
        return context.renderer.render(
            "catalog/campaign.html",
            now=now,
            campaign=campaign,
            found=found,
            grouped={name: items for name, items in grouped.items() if items},
            regions=regions,
            filters=filters,
            errors=errors,
        )

    return await cached_html(request, build)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. Says nothing about the database, so a load balancer
    does not restart healthy processes while the database is briefly away."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


@lru_cache(maxsize=1)
def _expected_revision(database_url: str) -> str | None:
    return schema.head_revision(database_url)


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and its schema is at the migrations' head, so this
    process can take traffic (a deploy that has not run ``events db upgrade`` is not ready)."""
    settings = app_context(request).settings
    expected = _expected_revision(settings.database_url)
    try:
        async with unit_of_work(request) as session:
            await queries.database_answers(session)
            current = await queries.schema_revision(session)
    except Exception:
        body = {"status": "unavailable", "database": "unreachable"}
        return JSONResponse(body, status_code=503, headers={"cache-control": "no-store"})
    if current != expected:
        body = {"status": "unavailable", "database": "ok", "migrations": "behind"}
        return JSONResponse(body, status_code=503, headers={"cache-control": "no-store"})
    body = {"status": "ok", "database": "ok", "migrations": "at head"}
    return JSONResponse(body, headers={"cache-control": "no-store"})
