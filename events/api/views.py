"""JSON endpoints of the public API: parse the query, read in one unit of work, serialize.

Each answer goes through the per-process page cache, keyed by path and query, for the same
short time to live as the HTML pages (``Settings.page_cache_seconds``). The cache holds the
serialized bytes and each handler's whole parse -> read -> serialize runs only on a miss, so
a hit costs no parsing, no query and no serialization. Errors are raised, never cached:
``web/errors.py`` turns them into JSON for any path under /api/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from events.api import openapi, schemas
from events.catalog import queries
from events.catalog.schemas import Cursor, ListingFilters, parse_listing
from events.errors import TooManyRequests
from events.web.cache import cache_key
from events.web.context import app_context
from events.web.pages import cached_json
from events.web.ratelimit import client_address, limiter_of
from events.web.uow import unit_of_work

CAMPAIGN_PARAMETERS = ("region", "place")


async def _api_json(request: Request, build: Callable[[], Awaitable[bytes]]) -> Response:
    """``cached_json``, after the per-address read limit. Only answers that must be built
    count (a cached one costs nothing, and most hits never reach a view): the limit is on
    the work a client causes, shared by every process through the database."""
    context = app_context(request)
    if context.cache.peek(cache_key(request.scope)) is None:
        address = client_address(request, context.settings.trusted_networks)
        limit = context.settings.api_read_rate_limit
        retry = await limiter_of(request).hit(f"api-read:{address}", limit)
        if retry is not None:
            raise TooManyRequests(retry)
    return await cached_json(request, build)


def _page_link(
    page_url: str, filters: ListingFilters, direction: str, position: Cursor | None
) -> str | None:
    """An absolute link to the page after (or before) ``position``, keeping the filters."""
    if position is None:
        return None
    return f"{page_url}?{filters.query_string(**{direction: position.encode()})}"


async def list_events(request: Request) -> Response:
    context = app_context(request)
    base_url = context.settings.base_url

    openapi.refuse_empty(openapi.LISTING_PARAMETERS, request.query_params)

    async def build() -> bytes:
        filters = parse_listing(request.query_params)
        async with unit_of_work(request) as session:
            now = context.clock.now()
            page = await queries.event_listing(
                session,
                filters,
                now=now,
                zone=context.settings.zone,
                per_page=filters.per_page or context.settings.page_size,
            )
        page_url = base_url + str(request.app.url_path_for("api:events"))
        return schemas.to_json(
            schemas.EventList(
                items=schemas.event_items(page.items, now=now, base_url=base_url),
                total=page.total,
                next=_page_link(page_url, filters, "after", page.next_cursor),
                previous=_page_link(page_url, filters, "before", page.prev_cursor),
            )
        )

    return await _api_json(request, build)


async def get_event(request: Request) -> Response:
    context = app_context(request)

    async def build() -> bytes:
        slug: str = request.path_params["slug"]
        async with unit_of_work(request) as session:
            now = context.clock.now()
            event = await queries.event_by_slug(session, slug)
        return schemas.to_json(
            schemas.event_detail(event, now=now, base_url=context.settings.base_url)
        )

    return await _api_json(request, build)


async def list_topics(request: Request) -> Response:
    context = app_context(request)

    async def build() -> bytes:
        async with unit_of_work(request) as session:
            now = context.clock.now()
            topics = await queries.topics(session)
            counts = await queries.upcoming_counts_by_topic(session, now=now)
        items = schemas.topic_items(topics, counts, base_url=context.settings.base_url)
        return schemas.TopicList.dump_json(items)

    return await _api_json(request, build)


async def get_series(request: Request) -> Response:
    context = app_context(request)

    async def build() -> bytes:
        slug: str = request.path_params["slug"]
        async with unit_of_work(request) as session:
            now = context.clock.now()
            series = await queries.series_by_slug(session, slug)
            sessions = await queries.series_sessions(session, series)
        return schemas.to_json(
            schemas.series_detail(series, sessions, now=now, base_url=context.settings.base_url)
        )

    return await _api_json(request, build)


async def get_campaign(request: Request) -> Response:
    context = app_context(request)
    openapi.refuse_empty(openapi.CAMPAIGN_PARAMETERS, request.query_params)

    async def build() -> bytes:
        slug: str = request.path_params["slug"]
        # Only the finder's own parameters are read, as on the HTML campaign page.
        filters = parse_listing(
            QueryParams(
                [(k, v) for k, v in request.query_params.multi_items() if k in CAMPAIGN_PARAMETERS]
            )
        )
        async with unit_of_work(request) as session:
            now = context.clock.now()
            campaign = await queries.campaign_by_slug(session, slug)
            found = await queries.campaign_events(
                session, campaign, region=filters.region, place=filters.place
            )
        return schemas.to_json(
            schemas.campaign_detail(
                campaign,
                found.events,
                total_in_campaign=found.total_in_campaign,
                widened_to_area=found.widened_to_area,
                now=now,
                base_url=context.settings.base_url,
            )
        )

    return await _api_json(request, build)


async def openapi_document(request: Request) -> Response:
    settings = app_context(request).settings

    async def build() -> bytes:
        return openapi.document_json(
            request.app.routes, base_url=settings.base_url, page_size=settings.page_size
        )

    return await _api_json(request, build)
