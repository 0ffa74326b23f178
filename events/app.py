"""The application factory: settings in, a Starlette app out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

import events.models  # noqa: F401  (every room's tables, so foreign keys between rooms resolve)
from events.alerts.routes import routes as alerts_routes
from events.api.routes import routes as api_routes
from events.calendar.cache import CalendarCache, KeptFeeds
from events.calendar.links import add_links as calendar_links
from events.calendar.routes import routes as calendar_routes
from events.catalog.presentation import availability_text, registration_state
from events.catalog.routes import routes as catalog_routes
from events.clock import Clock, SystemClock
from events.config import Settings, load_settings
from events.db import Database
from events.kit.signing import Signer
from events.kit.throttle import RateLimiter
from events.organiser.routes import routes as organiser_routes
from events.organiser.web import COOKIE_NAME as SESSION_COOKIE
from events.privacy.routes import routes as privacy_routes
from events.registration.api import routes as registration_api_routes
from events.registration.routes import routes as registration_routes
from events.registration.schemas import CHOICES as REGISTRATION_CHOICES
from events.resources import static_dir
from events.web.cache import CachedPages, CachedResponse, PageCache
from events.web.context import AppContext
from events.web.csrf import Csrf
from events.web.csrf_guard import CsrfMiddleware, exempt_routes
from events.web.errors import EXCEPTION_HANDLERS
from events.web.headers import SecurityHeaders
from events.web.options import AllowedMethods
from events.web.templating import Renderer
from events.wiring import worker as build_worker

log = logging.getLogger("events")


def create_app(
    settings: Settings, *, clock: Clock | None = None, database: Database | None = None
) -> Starlette:
    # The one signer, from the validated secret (in development, the local key file is read
    # or created here, once); an empty secret stops the app here.
    signer = Signer(settings.secret())
    database = database or Database.from_url(settings.database_url)
    routes: list[BaseRoute] = [
        *calendar_routes,  # first: /events/{slug}.ics before catalog's /events/{slug}
        *registration_routes,
        *catalog_routes,
        *privacy_routes,
        *organiser_routes,
        *alerts_routes,
        Mount("/api/v1", routes=[*registration_api_routes, *api_routes], name="api"),
        Mount("/static", app=StaticFiles(directory=static_dir()), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with _mail_worker(settings, database, clock or SystemClock(), signer):
            yield
        await database.dispose()

    app = Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )

    @lru_cache(maxsize=8192)
    def _path(name: str, params: tuple[tuple[str, str], ...]) -> str:
        # Starlette tries each route in turn, raising NoMatchFound on the others: remember.
        return str(app.url_path_for(name, **dict(params)))

    def url(name: str, /, **params: Any) -> str:
        return _path(name, tuple(sorted((k, str(v)) for k, v in params.items())))

    csrf = Csrf(signer.csrf_key)
    renderer = Renderer(
        {
            "csrf_placeholder": csrf.placeholder,
            "registration_choices": REGISTRATION_CHOICES,
            "url": url,
            "static": lambda path: url("static", path=path),
            "settings": settings,
            "availability_text": availability_text,
            "calendar_links": calendar_links,
            "registration_state": registration_state,
            "nav": "",
        }
    )
    cache: PageCache[CachedResponse] = PageCache(settings.page_cache_seconds)
    the_clock = clock or SystemClock()
    context = AppContext(
        settings=settings,
        database=database,
        clock=the_clock,
        signer=signer,
        renderer=renderer,
        cache=cache,
        csrf=csrf,
        rate_limiter=RateLimiter(
            enabled=settings.rate_limit_enabled,
            window_seconds=settings.rate_limit_window_seconds,
            database=database,
            clock=the_clock,
        ),
    )
    feeds = CalendarCache(settings.page_cache_seconds, cache)
    context.add(feeds)
    app.state.context = context
    https = settings.base_url.startswith("https://")
    # Innermost: a cached page is answered before routing, then CSRF and headers apply.
    app.add_middleware(CachedPages, cache=cache)
    # As innermost: a kept calendar feed (or its 304) is answered before routing.
    app.add_middleware(KeptFeeds, cache=feeds)
    # Every unsafe request passes the CSRF guard, whichever route it is for.
    app.add_middleware(
        CsrfMiddleware,
        csrf=csrf,
        https=https,
        base_url=settings.base_url,
        session_cookie=SESSION_COOKIE,
        exempt_views=exempt_routes(routes),
    )
    app.add_middleware(AllowedMethods, routes=routes)
    app.add_middleware(SecurityHeaders, https=https)
    return app


@asynccontextmanager
async def _mail_worker(
    settings: Settings, database: Database, clock: Clock, signer: Signer
) -> AsyncIterator[None]:
    """On the embedded set-up (``settings.runs_worker_in_process``) the app sends its own
    mail, so a newcomer sees it arrive; deployments run ``events worker`` instead."""
    if not settings.runs_worker_in_process:
        yield
        return
    stop = asyncio.Event()
    worker = build_worker(database, clock, settings, signer=signer)
    task = asyncio.create_task(worker.run(stop), name="events-mail-worker")
    log.info("mail worker %s running in this process", worker.worker_id)
    try:
        yield
    finally:
        stop.set()
        await task


def create_app_from_environment() -> Starlette:
    """The ASGI entry point for uvicorn (``events.app:create_app_from_environment``)."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)
