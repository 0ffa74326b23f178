"""Calendar responses: an event's ``.ics`` download, the public feeds (whole listing, topic,
series, campaign), a registrant's private feed and its personal joining redirects.

Public downloads and feeds answer conditional requests (strong ETag, Last-Modified, 304)
from what ``calendar/cache.py`` keeps; nothing is serialised on the event loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from events.calendar import builders, service
from events.calendar.cache import CalendarCache, Feed, assemble, calendar_cache
from events.calendar.service import EventKey, FeedStamp, Selection
from events.registration import service as registration_service
from events.web.context import app_context
from events.web.uow import unit_of_work

ICS = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}


def _http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def _not_modified(request: Request, etag: str, last_modified: dt.datetime) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return last_modified.replace(microsecond=0) <= moment


def _answer(
    request: Request,
    body: bytes,
    *,
    etag: str,
    last_modified: dt.datetime,
    filename: str | None = None,
    gzipped: bytes | None = None,
) -> Response:
    headers = {
        "etag": etag,
        "last-modified": _http_date(last_modified),
        "cache-control": PUBLIC_CACHE,
    }
    if gzipped is not None:
        headers["vary"] = "Accept-Encoding"
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    if filename is not None:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        body = gzipped
    return Response(body, media_type=ICS, headers=headers)


def _page_url_prefix(request: Request) -> str:
    """The event page's absolute URL with the slug left off (routes are looked up once)."""
    base = app_context(request).settings.base_url.rstrip("/")
    path = str(request.app.url_path_for("catalog:event", slug="-"))
    return base + path[:-1]


async def _feed(
    request: Request, key: str, choose: Callable[[AsyncSession], Awaitable[Selection]]
) -> Response:
    context = app_context(request)
    cache = calendar_cache(request)
    now = context.clock.now()

    async def stamp() -> tuple[str, FeedStamp, str]:
        async with unit_of_work(request) as session:
            selection = await choose(session)
            found = await service.feed_stamp(session, selection, now)
        return found.etag(key), found, selection.name

    etag, found, name = await cache.stamps.get_or_build(key, stamp)
    previous = cache.feeds.get(key)
    last_modified = found.last_changed or now
    kept = cache.feed(key, etag)
    if kept is not None:
        return _answer(
            request, kept.body, etag=etag, last_modified=kept.last_modified, gzipped=kept.gzipped
        )
    if previous is not None:
        # An event left the window or the selection without a newer updated_at: the feed
        # still changed, so Last-Modified must move on for If-Modified-Since clients.
        last_modified = max(last_modified, previous.last_modified + dt.timedelta(seconds=1))
    if _not_modified(request, etag, last_modified):
        return _answer(request, b"", etag=etag, last_modified=last_modified)

    async def build() -> Feed:
        prefix = _page_url_prefix(request)
        async with unit_of_work(request) as session:
            selection = await choose(session)
            keys = await service.feed_keys(session, selection, now)
            held = {k: part for k in keys if (part := cache.vevent(k)) is not None}
            absent = [k.id for k in keys if k not in held]
            rows = await service.events_by_id(session, absent)
        by_id = {k.id: k for k in keys}
        missing = {
            by_id[event.id]: (builders.EventView.from_event(event), prefix + quote(event.slug))
            for event in rows
            if event.id in by_id
        }
        body, gzipped = await run_in_threadpool(assemble, cache, name, keys, held, missing)
        return Feed(etag, last_modified, body, gzipped)

    feed = await cache.feed_once(key, etag, build)
    return _answer(
        request, feed.body, etag=feed.etag, last_modified=feed.last_modified, gzipped=feed.gzipped
    )


async def listing_feed(request: Request) -> Response:
    async def choose(session: AsyncSession) -> Selection:
        return service.whole_listing()

    return await _feed(request, "all", choose)


async def topic_feed(request: Request) -> Response:
    slug = request.path_params["slug"]

    async def choose(session: AsyncSession) -> Selection:
        return await service.topic_selection(session, slug)

    return await _feed(request, f"topic:{slug}", choose)


async def series_feed(request: Request) -> Response:
    slug = request.path_params["slug"]

    async def choose(session: AsyncSession) -> Selection:
        return await service.series_selection(session, slug)

    return await _feed(request, f"series:{slug}", choose)


async def campaign_feed(request: Request) -> Response:
    slug = request.path_params["slug"]

    async def choose(session: AsyncSession) -> Selection:
        return await service.campaign_selection(session, slug)

    return await _feed(request, f"campaign:{slug}", choose)


def _event_etag(key: EventKey, uid: str) -> str:
    text = f"{service.FORMAT_VERSION}|event|{uid}|{key.id}|{key.updated_at}|{key.ical_sequence}"
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


async def event_download(request: Request) -> Response:
    cache: CalendarCache = calendar_cache(request)
    slug = request.path_params["slug"]
    async with unit_of_work(request) as session:
        event = await service.event_download(session, slug)
        key = EventKey(event.id, event.updated_at, event.ical_sequence)
        view = builders.EventView.from_event(event)
    etag = _event_etag(key, view.uid)
    if _not_modified(request, etag, view.updated_at):
        return _answer(request, b"", etag=etag, last_modified=view.updated_at)
    part = cache.vevent(key)
    if part is None:
        part = (
            builders.vevent(view, page_url=_page_url_prefix(request) + quote(view.slug)),
            builders.uses_zone(view),
        )
        cache.keep_vevent(key, part)
    body = builders.wrap([part])
    return _answer(
        request, body, etag=etag, last_modified=view.updated_at, filename=f"{view.slug}.ics"
    )


async def private_feed(request: Request) -> Response:
    """A registrant's own confirmed places with their personal joining links; never cached
    and never shared. A wrong token is the same 404 as everywhere else."""
    context = app_context(request)
    token = request.path_params["token"]
    now = context.clock.now()
    async with unit_of_work(request) as session:
        _, places = await service.private_places(
            session, token=token, secret=context.settings.secret(), now=now
        )
        views = [(builders.EventView.from_event(p.event), p.event.id) for p in places]
    base = context.settings.base_url.rstrip("/")
    prefix = _page_url_prefix(request)
    manage = base + str(request.app.url_path_for("registration:manage", token=token))
    items = [
        (
            view,
            prefix + quote(view.slug),
            base + str(request.app.url_path_for("calendar:join", token=token, event_id=event_id)),
        )
        for view, event_id in views
    ]

    def build() -> bytes:
        parts = [
            (
                builders.vevent(view, page_url=page, joining_url=join, manage_url=manage),
                builders.uses_zone(view),
            )
            for view, page, join in items
        ]
        return builders.feed("My events", parts)

    body = await run_in_threadpool(build)
    return Response(body, media_type=ICS, headers=PRIVATE)


async def private_join(request: Request) -> Response:
    """The personal joining link of a place in the private feed: the same rules as the
    registration room's ``/j/{token}`` link (``registration.service.joining_link``)."""
    context = app_context(request)
    async with unit_of_work(request) as session:
        registration, event = await service.private_place(
            session,
            token=request.path_params["token"],
            secret=context.settings.secret(),
            event_id=request.path_params["event_id"],
        )
    now = context.clock.now()
    decision = registration_service.joining_link(
        registration, event, now, opens_minutes=context.settings.joining_opens_minutes
    )
    if decision.url is not None:
        return RedirectResponse(decision.url, status_code=303, headers=PRIVATE)
    html = context.renderer.render(
        "registration/join.html", event=event, decision=decision, now=now
    )
    return Response(html, media_type="text/html; charset=utf-8", headers=PRIVATE)
