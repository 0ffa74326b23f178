"""Calendar responses: an event's ``.ics`` download, the public feeds (whole listing, topic,
series, campaign), a registrant's private feed and its personal joining redirects.

Public downloads and feeds answer conditional requests (strong ETag, Last-Modified, 304)
from what ``calendar/cache.py`` keeps; nothing is serialised on the event loop. The private
feed answers them too (``cache.private_answer``), from bytes built per request and kept
nowhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from events.calendar import builders, service
from events.calendar.cache import (
    PUBLIC_CACHE,
    Answer,
    CalendarCache,
    Conditions,
    Feed,
    Stamp,
    assemble,
    calendar_cache,
    http_date,
    private_answer,
)
from events.calendar.service import EventKey, Selection
from events.registration import service as registration_service
from events.web.context import app_context
from events.web.secret_links import secret_link
from events.web.uow import unit_of_work

ICS = "text/calendar; charset=utf-8"
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}


class AnswerResponse(Response):
    """A ``cache.Answer`` (status, encoded headers, body) as a response."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.body, status_code=answer.status)
        self.raw_headers = list(answer.headers)


def _answer_download(
    request: Request, body: bytes, *, etag: str, last_modified: dt.datetime, filename: str
) -> Response:
    conditions = Conditions.of(request.scope["headers"])
    headers = {
        "etag": etag,
        "last-modified": http_date(last_modified),
        "cache-control": PUBLIC_CACHE.decode(),
    }
    if conditions.not_modified(etag.encode(), headers["last-modified"].encode(), last_modified):
        return Response(status_code=304, headers=headers)
    headers["content-disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=ICS, headers=headers)


def feed_window(request: Request) -> dt.timedelta:
    """How long after its end an event stays in feeds (``EVENTS_FEED_PAST_DAYS``)."""
    return dt.timedelta(days=app_context(request).settings.feed_past_days)


def _page_url_prefix(request: Request) -> str:
    """The event page's absolute URL with the slug left off (routes are looked up once)."""
    base = app_context(request).settings.base_url.rstrip("/")
    path = str(request.app.url_path_for("catalog:event", slug="-"))
    return base + path[:-1]


async def _feed(
    request: Request, key: str, choose: Callable[[AsyncSession], Awaitable[Selection]]
) -> Response:
    """A public feed: its stamp (one aggregate query, shared for the stamp's time to live),
    then its kept bytes, or one build in a worker thread. The answer is kept for the fast
    path (``cache.KeptFeeds``), which gives the same one until the stamp goes stale."""
    context = app_context(request)
    cache = calendar_cache(request)
    now = context.clock.now()
    window = feed_window(request)
    generation = cache.generation()

    async def stamp() -> Stamp:
        taken = time.monotonic()
        async with unit_of_work(request) as session:
            selection = await choose(session)
            found = await service.feed_stamp(session, selection, now, window=window)
        name = builders.calendar_title(context.settings.site_name, selection.subject)
        return Stamp(found.etag(f"{key}|{name}"), found, name, taken)

    stamped = await cache.stamps.get_or_build(f"{generation}|{key}", stamp)
    etag, name = stamped.etag, stamped.name
    conditions = Conditions.of(request.scope["headers"])
    feed = cache.feed(key, etag)
    if feed is None:
        previous = cache.feeds.get(key)
        last_modified = stamped.found.last_changed or now
        if previous is not None:
            # An event left the window or the selection without a newer updated_at: the
            # feed still changed, so Last-Modified must move on for If-Modified-Since.
            last_modified = max(last_modified, previous.last_modified + dt.timedelta(seconds=1))

        async def build() -> Feed:
            prefix = _page_url_prefix(request)
            async with unit_of_work(request) as session:
                selection = await choose(session)
                keys = await service.feed_keys(session, selection, now, window=window)
                held = {k: part for k in keys if (part := cache.vevent(k)) is not None}
                absent = [k.id for k in keys if k not in held]
                rows = await service.events_by_id(session, absent)
            by_id = {k.id: k for k in keys}
            missing = [(by_id[row.id], row) for row in rows if row.id in by_id]
            body, gzipped = await run_in_threadpool(
                assemble, cache, name, keys, held, missing, prefix
            )
            return Feed.of(etag, last_modified, body, gzipped)

        feed = await cache.feed_once(key, etag, build)
    cache.keep_for_path(request.scope["path"], feed, stamped, generation)
    return AnswerResponse(feed.answer(conditions))


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
    stamp = http_date(view.updated_at).encode()
    if Conditions.of(request.scope["headers"]).not_modified(etag.encode(), stamp, view.updated_at):
        return _answer_download(
            request, b"", etag=etag, last_modified=view.updated_at, filename=f"{view.slug}.ics"
        )
    part = cache.vevent(key)
    if part is None:
        part = (
            builders.vevent(view, page_url=_page_url_prefix(request) + quote(view.slug)),
            builders.uses_zone(view),
        )
        cache.keep_vevent(key, part)
    name = builders.calendar_title(app_context(request).settings.site_name, view.title)
    body = builders.wrap([part], name=name)
    return _answer_download(
        request, body, etag=etag, last_modified=view.updated_at, filename=f"{view.slug}.ics"
    )


# The private feed's own headers besides its validators (``cache.private_answer``).
PRIVATE_FEED = [(b"x-robots-tag", b"noindex"), (b"referrer-policy", b"no-referrer")]


@secret_link
async def private_feed(request: Request) -> Response:
    """A registrant's own confirmed places with their personal joining links: never in a
    shared cache, but answering conditional requests (``cache.private_answer``). A wrong
    token is the same 404 as everywhere else; a link whose registration was erased is an
    empty calendar (``service.private_places`` says why)."""
    context = app_context(request)
    token = request.path_params["token"]
    now = context.clock.now()
    async with unit_of_work(request) as session:
        places = await service.private_places(
            session, token=token, signer=context.signer, now=now, window=feed_window(request)
        )
        views = [(builders.EventView.from_event(p.event), p.event.id) for p in places]
    base = context.settings.base_url.rstrip("/")
    name = builders.private_calendar_title(context.settings.site_name)
    prefix = _page_url_prefix(request)
    # Descriptions link the public event page, not the management page: the calendar token
    # must not lead to the management token (which can cancel). The personal joining link
    # only for an online or hybrid event that is on (the places here are all confirmed).
    items = [
        (
            view,
            prefix + quote(view.slug),
            base + str(request.app.url_path_for("calendar:join", token=token, event_id=event_id))
            if builders.offers_joining(view)
            else None,
        )
        for view, event_id in views
    ]
    conditions = Conditions.of(request.scope["headers"])
    zone = context.settings.timezone

    def build() -> Answer:
        parts = [
            (
                builders.vevent(view, page_url=page, joining_url=join),
                builders.uses_zone(view),
            )
            for view, page, join in items
        ]
        body = builders.private_feed(name, parts, zone=zone)
        return private_answer(body, conditions, PRIVATE_FEED)

    return AnswerResponse(await run_in_threadpool(build))


@secret_link
async def private_join(request: Request) -> Response:
    """The personal joining link of a place in the private feed: the same rules as the
    registration room's ``/j/{token}`` link (``registration.service.joining_link``)."""
    context = app_context(request)
    async with unit_of_work(request) as session:
        registration, event = await service.private_place(
            session,
            token=request.path_params["token"],
            signer=context.signer,
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
