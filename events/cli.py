"""The ``events`` command: serve, worker, db upgrade|check, seed-demo, create-organiser.

Each command builds Settings once, opens what it needs, and reports in one line; a wrong
setting stops it with one line naming the variable.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

import events.models  # noqa: F401  (every room's tables, so foreign keys between rooms resolve)
from events.config import ConfigError, Settings, announce_served_base_url, load_settings
from events.kit.signing import Signer

F = TypeVar("F", bound=Callable[..., Any])


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"events: configuration error: {exc}", err=True)
        sys.exit(2)


def _signer(settings: Settings) -> Signer:
    """The command's one signer (in development, reading or creating the local key file)."""
    try:
        return Signer(settings.secret())
    except ValueError as exc:
        raise ConfigError(f"EVENTS_SECRET_KEY: {exc}") from None


def _friendly(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"events: configuration error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="events")
def main() -> None:
    """Event listing and webinar registration."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Migrate, and load demo data if the database is empty.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@_friendly
def serve(host: str, port: int, workers: int, demo: bool, reload: bool) -> None:
    """Run the web app with uvicorn."""
    import uvicorn

    settings = _settings()
    # Refuse a bad secret now; in development, create the local key file before uvicorn's
    # workers race to.
    _signer(settings)
    if demo:
        from events import schema

        schema.upgrade(settings.database_url)
        loaded = asyncio.run(_seed_if_empty(settings))
        click.echo(
            "events: demo data loaded" if loaded else "events: database has data; demo not loaded"
        )
    if settings.is_sqlite and workers > 1:
        click.echo(
            "events: note: several workers on SQLite share one file; fine for a branch, "
            "use PostgreSQL at national scale",
            err=True,
        )
    base_url, source = settings.base_url, "EVENTS_BASE_URL"
    if not settings.base_url_configured:  # never in production: refused by the settings
        # Links point at the address served, in every app process this starts.
        base_url = announce_served_base_url(host, port)
        source = "the address served; set EVENTS_BASE_URL to the public address"
    click.echo(f"events: serving on http://{host}:{port}")
    click.echo(f"events: links point at {base_url}/ (from {source})")
    uvicorn.run(
        "events.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level,
        # Pinned (both come with uvicorn[standard]): the pure-Python fallbacks cost 1.6x the
        # CPU per request (bench.catalog), so a missing extra should fail loudly.
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
        access_log=False,
    )


async def _seed_if_empty(settings: Settings) -> bool:
    from events import demo
    from events.catalog.queries import count_events
    from events.clock import SystemClock
    from events.db import Database, unit_of_work

    database = Database.from_url(settings.database_url)
    try:
        async with unit_of_work(database.writer) as session:
            if await count_events(session):
                return False
            await demo.seed(session, SystemClock(), zone=settings.timezone)
            return True
    finally:
        await database.dispose()


@main.command()
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 1000), help="Messages claimed at a time.")
@_friendly
def worker(once: bool, batch_size: int | None) -> None:
    """Send queued email (the outbox) until stopped; a line per batch."""
    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if batch_size is not None:
        settings = settings.model_copy(update={"worker_batch_size": batch_size})
    total = asyncio.run(_work(settings, once))
    click.echo(f"events: worker stopped: {total}")


async def _work(settings: Settings, once: bool) -> str:
    import signal
    from urllib.parse import urlsplit

    from events.clock import SystemClock
    from events.db import Database
    from events.mail.worker import BatchResult
    from events.wiring import worker as build_worker

    def report(result: BatchResult) -> None:
        click.echo(f"events: batch: {result.line()}")

    database = Database.from_url(settings.database_url)
    try:
        mailer = build_worker(database, SystemClock(), settings, signer=_signer(settings))
        parts = urlsplit(settings.mail_url)
        target = parts.path if parts.scheme == "file" else f"{parts.scheme}://{parts.hostname}"
        click.echo(f"events: worker {mailer.worker_id} sending to {target}")
        # A separate worker cannot know what `events serve` serves: without EVENTS_BASE_URL
        # its links use the default (see the README's settings).
        click.echo(f"events: links point at {settings.base_url}/")
        if once:
            return (await mailer.drain(report)).line()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        totals: list[BatchResult] = []

        def count(result: BatchResult) -> None:
            totals.append(result)
            report(result)

        await mailer.run(stop, count)
        return sum(totals, BatchResult()).line()
    finally:
        await database.dispose()


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@_friendly
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from events import schema

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    schema.upgrade(settings.database_url, revision)
    click.echo(f"events: database at {schema.head_revision(settings.database_url)}")


@db.command("check")
@_friendly
def db_check() -> None:
    """Exit non-zero unless the database is at the newest migration."""
    from events import schema

    settings = _settings()
    current = asyncio.run(schema.current_revision(settings.database_url))
    head = schema.head_revision(settings.database_url)
    if current != head:
        click.echo(
            f"events: database at {current}, newest is {head}: run `events db upgrade`", err=True
        )
        sys.exit(1)
    click.echo(f"events: database at {head} (newest)")


@main.command("seed-demo")
@click.option("--force", is_flag=True, help="Load even when the database already has events.")
@_friendly
def seed_demo(force: bool) -> None:
    """Load realistic demo data (topics, a series, a campaign day, webinars)."""
    from events import schema

    settings = _settings()
    schema.upgrade(settings.database_url)
    loaded = asyncio.run(_seed(settings, force))
    if loaded:
        click.echo(f"events: demo data loaded: {loaded}")
    else:
        click.echo("events: database already has events; use --force to add the demo anyway")


async def _seed(settings: Settings, force: bool) -> str:
    from events import demo
    from events.catalog.queries import count_events
    from events.clock import SystemClock
    from events.db import Database, unit_of_work

    database = Database.from_url(settings.database_url)
    try:
        async with unit_of_work(database.writer) as session:
            if not force and await count_events(session):
                return ""
            summary = await demo.seed(session, SystemClock(), zone=settings.timezone)
            return summary
    finally:
        await database.dispose()


@main.command("create-organiser")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "organiser"]),
    required=True,
    help="admin: every event; organiser: own and shared events.",
)
@click.option("--name", default="", help="The name shown in the console.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (also when input is not a terminal).",
)
@_friendly
def create_organiser(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an organiser account for the console; asks for the password twice."""
    from events import schema

    settings = _settings()
    if asyncio.run(schema.current_revision(settings.database_url)) != schema.head_revision(
        settings.database_url
    ):
        click.echo(
            "events: the database is not up to date: run `events db upgrade` first", err=True
        )
        sys.exit(1)
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
        )
    message, ok = asyncio.run(_create_organiser(settings, email, role, name, password))
    if not ok:
        click.echo(f"events: {message}", err=True)
        sys.exit(1)
    click.echo(f"events: {message}")


async def _create_organiser(
    settings: Settings, email: str, role: str, name: str, password: str
) -> tuple[str, bool]:
    from events.clock import SystemClock
    from events.db import Database, unit_of_work
    from events.errors import Conflict, InvalidInput
    from events.organiser import auth
    from events.organiser.models import OrganiserRole

    database = Database.from_url(settings.database_url)
    try:
        async with unit_of_work(database.writer) as session:
            organiser = await auth.create_organiser(
                session,
                SystemClock(),
                email=email,
                password=password,
                role=OrganiserRole(role),
                name=name,
            )
            return f"created {organiser.role.value} {organiser.email}", True
    except InvalidInput as exc:
        return "; ".join(exc.fields.values()) or exc.message, False
    except Conflict as exc:
        return exc.message, False
    finally:
        await database.dispose()


@main.group()
def privacy() -> None:
    """Retention and erasure (what the worker and the /privacy pages do), for operators."""


@privacy.command("purge")
@_friendly
def privacy_purge() -> None:
    """Run the retention job now: purge access requirements and old registrations."""
    settings = _settings()
    done = asyncio.run(_purge(settings))
    click.echo(
        f"events: access requirements purged from {done.access_purged} registrations, "
        f"{done.registrations_erased} registrations erased, "
        f"{done.mail_records_scrubbed} mail records scrubbed"
    )


async def _purge(settings: Settings) -> Any:
    from events.clock import SystemClock
    from events.db import Database, unit_of_work
    from events.privacy import service

    database = Database.from_url(settings.database_url)
    try:
        async with unit_of_work(database.writer) as session:
            return await service.purge_expired(
                session,
                SystemClock(),
                access_days=settings.access_retention_days,
                registration_days=settings.registration_retention_days,
            )
    finally:
        await database.dispose()


@privacy.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_friendly
def privacy_erase(email: str, yes: bool) -> None:
    """Erase everything held for EMAIL (a request received another way, e.g. by post)."""
    from events.registration.schemas import parse_email

    settings = _settings()
    try:
        address = parse_email(email)
    except Exception as exc:
        click.echo(f"events: {getattr(exc, 'fields', {}).get('email', exc)}", err=True)
        sys.exit(2)
    if not yes:
        click.confirm(f"Erase every registration and subscription held for {address}?", abort=True)
    done = asyncio.run(_erase(settings, address))
    click.echo(
        f"events: {done.registrations} registrations erased, {done.places_freed} places freed, "
        f"{done.subscriptions} subscriptions ended"
    )


async def _erase(settings: Settings, email: str) -> Any:
    from events.audit.service import SYSTEM
    from events.clock import SystemClock
    from events.db import Database, unit_of_work
    from events.privacy import service

    signer = _signer(settings)
    database = Database.from_url(settings.database_url)
    try:
        async with unit_of_work(database.writer) as session:
            return await service.erase_email(
                session, SystemClock(), email=email, signer=signer, actor=SYSTEM
            )
    finally:
        await database.dispose()
