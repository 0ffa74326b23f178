"""The real-browser harness: the app served by ``events serve --demo`` on loopback, headless
Debian Chromium through Playwright, axe-core, and the map from the app's routes to real pages.

Shared by the browser tests (tests/browser/conftest.py) and the screenshot command
(``python -m tests.browser.screenshots``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from starlette.routing import BaseRoute, Mount, Route

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("EVENTS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium waits on the (closed) network at start.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_browser() -> str | None:
    """None when Playwright and Chromium are both here, else what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


# --- the server ---------------------------------------------------------------------------


# The console account the harness creates with ``events create-organiser`` (an admin, so
# every demo event is visible to it).
ORGANISER_EMAIL = "audit-admin@union.example"
ORGANISER_PASSWORD = "browser audit passphrase"


@dataclass
class Server:
    base_url: str
    db_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def outbox_payload(self, recipient: str) -> dict[str, Any]:
        """The newest outgoing message's payload for RECIPIENT (tokens live there until the
        mail worker sends it)."""
        with sqlite3.connect(self.db_path) as conn:
            row = conn.execute(
                "SELECT payload FROM outbox_messages WHERE recipient = ? ORDER BY id DESC LIMIT 1",
                (recipient,),
            ).fetchone()
        assert row is not None, f"no outgoing message for {recipient}"
        payload: dict[str, Any] = json.loads(row[0])
        return payload


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(folder: Path) -> Iterator[Server]:
    """``events serve --demo`` on a free loopback port with a fresh SQLite file in FOLDER."""
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "browser_test.sqlite3"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env.update(
        EVENTS_DATABASE_URL=f"sqlite:///{db_path}",
        EVENTS_PAGE_CACHE_SECONDS="0",
        EVENTS_BASE_URL=f"http://127.0.0.1:{port}",
        EVENTS_MAIL_URL=(folder / "outbox").as_uri(),
        # The tests register several times from one address, and read the management token
        # from the outbox before any worker could send (and scrub) the message.
        EVENTS_RATE_LIMIT_ENABLED="false",
        EVENTS_WORKER_IN_PROCESS="false",
        # Every test signs in from 127.0.0.1, and some audit the failed-login state.
        EVENTS_LOGIN_ADDRESS_FREE_ATTEMPTS="10000",
        EVENTS_LOGIN_ADDRESS_LOCK_AFTER="20000",
        EVENTS_LOGIN_ACCOUNT_FREE_ATTEMPTS="10000",
        EVENTS_LOGIN_ACCOUNT_LOCK_AFTER="20000",
    )
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError("events serve --demo exited:\n" + log.read_text())
            if time.monotonic() > deadline:
                raise RuntimeError("events serve --demo did not answer:\n" + log.read_text())
            time.sleep(0.2)
        created = subprocess.run(
            [
                *(sys.executable, "-m", "events", "create-organiser", ORGANISER_EMAIL),
                *("--role", "admin", "--name", "Audit Admin", "--password-stdin"),
            ],
            cwd=folder,
            env=env,
            input=ORGANISER_PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError("events create-organiser failed:\n" + created.stderr)
        yield Server(base_url, db_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def launched_browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- demo data -------------------------------------------------------------------------------


@dataclass
class Demo:
    """Slugs from the demo data, read through the public API as a partner site would."""

    event: str  # open for registration, not members only
    waiting_list_event: str | None
    members_event: str | None
    other_events: list[str]
    topic: str
    series: str
    campaign: str
    tokens: dict[str, str] = field(default_factory=dict)


def load_demo(server: Server) -> Demo:
    events: list[dict[str, Any]] = []
    url: str | None = server.url("/api/v1/events?limit=100")
    while url:
        body = httpx.get(url, timeout=10).json()
        events.extend(body["items"])
        url = body.get("next")
        if url and url.startswith("/"):
            url = server.url(url)
    topics = httpx.get(server.url("/api/v1/topics"), timeout=10).json()

    def first(pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((e for e in events if pred(e)), None)

    open_event = first(
        lambda e: e["registration_state"] == "open" and not e["members_only"] and not e["campaign"]
    )
    assert open_event is not None, "the demo data has no open event"
    waiting = first(lambda e: e["registration_state"] == "waiting_list")
    members = first(lambda e: e["members_only"])
    others = [
        e["slug"]
        for e in (
            first(lambda e: e["campaign"] is not None),
            first(lambda e: e["format"] == "in_person" and not e["campaign"]),
            first(lambda e: e["registration_state"] == "not_open_yet"),
            first(lambda e: e["registration_state"] == "full"),
        )
        if e is not None
    ]
    series = first(lambda e: e["series"] is not None)
    campaign = first(lambda e: e["campaign"] is not None)
    assert series is not None and campaign is not None, "the demo has no series or campaign"
    return Demo(
        event=open_event["slug"],
        waiting_list_event=waiting["slug"] if waiting else None,
        members_event=members["slug"] if members else None,
        other_events=others,
        topic=topics[0]["slug"],
        series=series["series"]["slug"],
        campaign=campaign["campaign"]["slug"],
    )


# --- the app's routes ---------------------------------------------------------------------


@dataclass(frozen=True)
class AppRoute:
    name: str
    path: str
    methods: frozenset[str]


def app_routes() -> list[AppRoute]:
    """Every route of the app, names qualified by their Mount (``api:events``)."""
    from events.app import create_app
    from events.config import Settings

    settings = Settings(
        env="test",
        database_url="sqlite:///unused_test.sqlite3",
        secret_key="browser-test-secret-key-browser-test-secret",
        base_url="http://testserver",
    )
    app = create_app(settings)
    found: list[AppRoute] = []

    def walk(routes: list[BaseRoute], prefix: str, namespace: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                name = f"{namespace}{route.name}" if route.name else namespace
                sub = route.routes
                if sub:
                    walk(list(sub), prefix + route.path, f"{name}:" if name else "")
                else:  # an ASGI app (static files): one entry for the whole mount
                    found.append(AppRoute(name, prefix + route.path, frozenset({"GET"})))
            elif isinstance(route, Route):
                found.append(
                    AppRoute(
                        f"{namespace}{route.name}",
                        prefix + route.path,
                        frozenset(route.methods or ()),
                    )
                )
            else:
                raise AssertionError(f"unknown route type {route!r}: teach the browser tests it")

    walk(list(app.routes), "", "")
    return found


def get_routes() -> list[AppRoute]:
    return [route for route in app_routes() if "GET" in route.methods]


# Routes that answer GET with something other than an HTML page, and why they are not audited.
NOT_HTML: dict[str, str] = {
    "catalog:healthz": "health check for load balancers, plain text",
    "catalog:readyz": "readiness check for load balancers and deploys, JSON",
    "static": "the stylesheets themselves",
}
# Whole mounts that are not HTML pages.
NOT_HTML_MOUNTS: dict[str, str] = {
    "api:": "the JSON API (and its OpenAPI document) for partner sites and tools",
}
# Paths by their ending.
NOT_HTML_SUFFIXES: dict[str, str] = {
    ".ics": "iCalendar files and feeds, read by calendar apps",
    ".json": "JSON documents",
    ".csv": "spreadsheet exports (CSV), downloaded",
    ".xlsx": "spreadsheet exports (Excel), downloaded",
}


def exclusion_reason(route: AppRoute) -> str | None:
    if route.name in NOT_HTML:
        return NOT_HTML[route.name]
    for prefix, reason in NOT_HTML_MOUNTS.items():
        if route.name.startswith(prefix):
            return reason
    for suffix, reason in NOT_HTML_SUFFIXES.items():
        if route.path.endswith(suffix):
            return reason
    return None


def html_routes() -> list[AppRoute]:
    return [route for route in get_routes() if exclusion_reason(route) is None]


# Each HTML route → the concrete pages (label, path) that stand for it in the demo data.
PageMap = Callable[[Demo], list[tuple[str, str]]]


def _events(demo: Demo) -> list[tuple[str, str]]:
    pages = [("event", f"/events/{demo.event}")]
    if demo.waiting_list_event:
        pages.append(("event-waiting-list", f"/events/{demo.waiting_list_event}"))
    if demo.members_event:
        pages.append(("event-members-only", f"/events/{demo.members_event}"))
    pages += [(f"event-{i}", f"/events/{slug}") for i, slug in enumerate(demo.other_events)]
    return pages


PAGES: dict[str, PageMap] = {
    "catalog:home": lambda d: [("home", "/")],
    "catalog:listing": lambda d: [
        ("listing", "/events"),
        ("listing-filtered", "/events?format=online&kind=webinar"),
        ("listing-bad-filter", "/events?from=not-a-date&kind=nonsense"),
        # Errors for filters with and without a control of their own on the page.
        ("listing-bad-filters", "/events?access=@@&after=garbage&per_page=0&past=maybe&to=x"),
    ],
    "catalog:event": _events,
    "catalog:topics": lambda d: [("topics", "/topics")],
    "catalog:topic": lambda d: [("topic", f"/topics/{d.topic}")],
    "catalog:series": lambda d: [("series", f"/series/{d.series}")],
    "catalog:campaign": lambda d: [
        ("campaign", f"/campaigns/{d.campaign}"),
        ("campaign-bad-filter", f"/campaigns/{d.campaign}?region=nowhere-at-all"),
        ("campaign-bad-filters", f"/campaigns/{d.campaign}?region=%21%21&kind=nonsense"),
    ],
    "registration:form": lambda d: [("register-form", f"/events/{d.event}/register")],
    "registration:series_form": lambda d: [("series-form", f"/series/{d.series}/register")],
    "registration:manage": lambda d: [("manage", f"/r/{d.tokens['manage']}")],
    "registration:cancel_confirm": lambda d: [
        ("cancel-confirm", f"/r/{d.tokens['manage']}/cancel")
    ],
    "registration:join": lambda d: [("join", f"/j/{d.tokens['join']}")],
    # Result pages after a POST (Post/Redirect/Get).
    "registration:done": lambda d: [("registered", d.tokens["registered"])],
    "registration:series_done": lambda d: [("series-registered", d.tokens["series_registered"])],
    "registration:cancelled": lambda d: [("cancelled", f"/r/{d.tokens['cancelled']}/cancelled")],
    "alerts:check_email": lambda d: [
        ("alerts-check-email", f"/alerts/topics/{d.topic}/check-email")
    ],
    "privacy:requested": lambda d: [("privacy-requested-page", "/privacy/requested")],
    # The joining link in the registrant's private calendar feed (the registration room's page).
    "alerts:subscribe_form": lambda d: [("alerts-subscribe", f"/alerts/topics/{d.topic}")],
    "alerts:confirm_form": lambda d: [
        ("alerts-confirm", f"/alerts/confirm/{d.tokens['alert_confirm']}"),
        ("alerts-confirm-bad-link", "/alerts/confirm/1.not-a-real-link"),
    ],
    "alerts:unsubscribe_form": lambda d: [
        ("alerts-unsubscribe", f"/alerts/unsubscribe/{d.tokens['alert_unsubscribe']}")
    ],
    "calendar:join": lambda d: [
        ("calendar-join", f"/c/{d.tokens['calendar']}/{d.tokens['event_id']}/join")
    ],
    "privacy:request": lambda d: [("privacy", "/privacy")],
    "privacy:notice": lambda d: [("privacy-notice", "/privacy-notice")],
    "privacy:accessibility": lambda d: [("accessibility", "/accessibility")],
    "privacy:erase": lambda d: [
        ("privacy-erase", f"/privacy/erase/{d.tokens['erase']}"),
        ("privacy-erase-bad-link", "/privacy/erase/" + "A" * 43),
    ],
}


def _console_event(page: str) -> PageMap:
    label = "console-event-" + page.replace("/", "-")
    return lambda d: [(label, f"/organiser/events/{d.event}/{page}")]


# The organiser console (pages behind the sign-in; the browser contexts carry the session of
# the admin created by ``running_server``, see ``sign_in_in_browser``).
PAGES.update(
    {
        "organiser:dashboard": lambda d: [("console-dashboard", "/organiser/")],
        "organiser:login": lambda d: [
            ("console-login", "/organiser/login"),
            ("console-login-next", "/organiser/login?next=%2Forganiser%2Faccount"),
        ],
        "organiser:account": lambda d: [("console-account", "/organiser/account")],
        "organiser:password": lambda d: [("console-password", "/organiser/account/password")],
        "organiser:tokens": lambda d: [("console-tokens", "/organiser/account/tokens")],
        "organiser:events": lambda d: [("console-events", "/organiser/events")],
        "organiser:event_new": lambda d: [("console-event-new", "/organiser/events/new")],
        "organiser:event": lambda d: [
            ("console-event", f"/organiser/events/{d.event}"),
            *(
                [("console-event-waiting", f"/organiser/events/{d.waiting_list_event}")]
                if d.waiting_list_event
                else []
            ),
        ],
        "organiser:event_edit": _console_event("edit"),
        "organiser:event_preview": _console_event("preview"),
        "organiser:event_cancel": _console_event("cancel"),
        "organiser:event_duplicate": _console_event("duplicate"),
        "organiser:event_sharing": _console_event("sharing"),
        "organiser:event_audit": _console_event("audit"),
        "organiser:catalogue": lambda d: [("console-catalogue", "/organiser/catalogue")],
        "organiser:catalogue_new": lambda d: [
            (f"console-catalogue-new-{kind}", f"/organiser/catalogue/{kind}/new")
            for kind in ("topics", "series", "campaigns", "partners")
        ],
        "organiser:catalogue_edit": lambda d: [
            ("console-catalogue-topic", f"/organiser/catalogue/topics/{d.topic}"),
            ("console-catalogue-series", f"/organiser/catalogue/series/{d.series}"),
            ("console-catalogue-campaign", f"/organiser/catalogue/campaigns/{d.campaign}"),
        ],
        "organiser:registrations": _console_event("registrations"),
        "organiser:registration_new": _console_event("registrations/new"),
        "organiser:registration_action": lambda d: [
            (
                f"console-registration-{action}",
                f"/organiser/events/{d.event}/registrations/{d.tokens['registration_id']}/{action}",
            )
            for action in ("move", "cancel")
        ],
        "organiser:attendance_import": _console_event("attendance/import"),
        "organiser:message": _console_event("message"),
        "organiser:mail": _console_event("mail"),
        "organiser:sign_in_sheet": _console_event("sign-in-sheet"),
        "organiser:notice": lambda d: [
            ("console-notice-privacy", "/organiser/notices/privacy-notice"),
            ("console-notice-accessibility", "/organiser/notices/accessibility"),
        ],
    }
)
# Routes audited signed out (signed in, they redirect elsewhere).
SIGNED_OUT_ROUTES = {"organiser:login"}


def pages_for(route: AppRoute, demo: Demo) -> list[tuple[str, str]]:
    mapping = PAGES.get(route.name)
    if mapping is None:
        raise AssertionError(
            f"route {route.name} ({route.path}) has no pages in tests/browser/harness.py PAGES: "
            "map it to concrete URLs from the demo data so the browser tests audit it, or list "
            "it in NOT_HTML with the reason it is not an HTML page"
        )
    return mapping(demo)


def all_pages(demo: Demo) -> list[tuple[str, str]]:
    return [page for route in html_routes() for page in pages_for(route, demo)]


def signed_out_paths(demo: Demo) -> set[str]:
    return {
        path
        for route in html_routes()
        if route.name in SIGNED_OUT_ROUTES
        for _, path in pages_for(route, demo)
    }


# --- signing in to the console ---------------------------------------------------------------


def sign_in_in_browser(
    page: Page, server: Server, *, password: str = ORGANISER_PASSWORD, expect_ok: bool = True
) -> None:
    """Sign in through the real login form, as a person would."""
    page.goto(server.url("/organiser/login"))
    page.fill("#email", ORGANISER_EMAIL)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.console-form button[type=submit]")
    if expect_ok:
        assert page.url.endswith("/organiser/"), f"sign-in failed, at {page.url}"


@contextmanager
def signed_out(page: Page) -> Iterator[None]:
    """The page's context without its cookies for a while (then restored)."""
    saved = page.context.cookies()
    page.context.clear_cookies()
    try:
        yield
    finally:
        page.context.clear_cookies()
        page.context.add_cookies(saved)  # type: ignore[arg-type]


# --- registering in the browser -------------------------------------------------------------


def new_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def register_in_browser(page: Page, server: Server, slug: str, tag: str) -> dict[str, str]:
    """Fill and send the event page's form; on the confirmation page, return the tokens."""
    email = new_email(tag)
    page.goto(server.url(f"/events/{slug}/register"))
    page.fill("#name", "Alex Example")
    page.fill("#email", email)
    page.check("#consents")
    with page.expect_navigation():
        page.click("form.registration-form button[type=submit]")
    # Post/Redirect/Get: the browser is on the result page, named by a ticket, not a token.
    registered = page.url.removeprefix(server.url(""))
    assert f"/events/{slug}/registered/" in registered, f"not a result page: {page.url}"
    payload = server.outbox_payload(email)
    with sqlite3.connect(server.db_path) as conn:
        row = conn.execute(
            "SELECT id FROM registrations WHERE email = ? ORDER BY id DESC LIMIT 1", (email,)
        ).fetchone()
    return {
        "manage": payload["manage_token"],
        "join": payload["join_token"],
        "calendar": payload["calendar_token"],
        "event_id": str(payload["event_id"]),
        "email": email,
        "registration_id": str(row[0]),
        "registered": registered,
    }


def results_in_browser(page: Page, server: Server, demo: Demo) -> dict[str, str]:
    """The result pages the audit needs beyond ``register_in_browser``'s: a place cancelled
    through its link (``cancelled``, the management token of a registration of its own, so
    the shared one stays), and a series registration's result page (``series_registered``)
    with a line in each state, its ticket signed with the server's development secret."""
    import datetime as dt

    from events.kit.signing import Signer
    from events.web import results

    cancelled = register_in_browser(page, server, demo.event, "cancelled")["manage"]
    page.goto(server.url(f"/r/{cancelled}/cancel"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith(f"/r/{cancelled}/cancelled"), page.url
    with sqlite3.connect(server.db_path) as conn:
        series_id, event_id = conn.execute(
            "SELECT series.id, events.id FROM series JOIN events ON events.series_id = series.id"
            " WHERE series.slug = ? ORDER BY events.starts_at LIMIT 1",
            (demo.series,),
        ).fetchone()
    lines = [
        [event_id, "confirmed", None, None],
        [event_id, "waitlisted", 2, None],
        [event_id, None, None, "This event is full."],
    ]
    signer = Signer((server.db_path.parent / ".events-secret").read_text().strip())
    ticket = results.issue(
        signer, "series-registration", [series_id, lines], dt.datetime.now(dt.UTC)
    )
    return {
        "cancelled": cancelled,
        "series_registered": f"/series/{demo.series}/registered/{ticket}",
    }


def ask_for_data_in_browser(page: Page, server: Server, email: str) -> dict[str, str]:
    """Ask for a copy of what is held for EMAIL through the privacy form; return the erase
    link's token from the queued email."""
    page.goto(server.url("/privacy"))
    page.fill("#email", email)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    heading = page.inner_text("h1")
    assert heading == "Check your email", f"{page.url}: {heading}: {page.inner_text('main')[:300]}"
    return {"erase": server.outbox_payload(email)["erase_token"]}


def subscribe_in_browser(page: Page, server: Server, topic: str, tag: str) -> dict[str, str]:
    """Subscribe to a topic's alerts through its form; return the confirm and unsubscribe
    link tokens, minted as the alert emails mint them (from the server's development secret)."""
    import datetime as dt
    from types import SimpleNamespace

    from events.alerts.links import link_token
    from events.kit.signing import Signer

    email = new_email(tag)
    page.goto(server.url(f"/alerts/topics/{topic}"))
    page.fill("#email", email)
    with page.expect_navigation():
        page.click("form.subscribe-form button[type=submit]")
    with sqlite3.connect(server.db_path) as conn:
        row = conn.execute(
            "SELECT id, created_at FROM topic_subscriptions WHERE email = ?", (email,)
        ).fetchone()
    assert row is not None, f"no subscription for {email}"
    created = dt.datetime.fromisoformat(row[1]).replace(tzinfo=dt.UTC)
    subscription: Any = SimpleNamespace(id=row[0], created_at=created)
    signer = Signer((server.db_path.parent / ".events-secret").read_text().strip())
    return {
        "alert_confirm": link_token(signer, subscription, "confirm"),
        "alert_unsubscribe": link_token(signer, subscription, "unsubscribe"),
    }


# --- axe-core ----------------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the app's Content-Security-Policy (rightly)
        # refuses an injected <script>, and the tests should see the page as it is served.
        page.evaluate(_axe_source() + "\n;true")
    result: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    return result


def describe_violations(label: str, url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{label} ({url}): {len(violations)} axe violation(s)"]
    for v in violations:
        for node in v["nodes"]:
            lines.append(
                f"  - {v['id']} [{v['impact']}] {node['target']}: {v['help']} ({v['helpUrl']})"
            )
            summary = re.sub(r"\s+", " ", node.get("summary") or "")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def visit_every_page(page: Page, server: Server, demo: Demo) -> Iterator[str]:
    """Go to every audited page in turn, then to the states only a form submission reaches
    (forms with errors, the confirmation page); yield a label when each is on screen."""
    outside = signed_out_paths(demo)
    for label, path in all_pages(demo):
        if path in outside:
            with signed_out(page):
                response = page.goto(server.url(path))
                assert response is not None and response.status < 500, f"{label}: {path}"
                yield label
            continue
        response = page.goto(server.url(path))
        assert response is not None and response.status < 500, f"{label}: {path}"
        yield label
    with signed_out(page):
        sign_in_in_browser(page, server, password="not the password", expect_ok=False)
        yield "console-login-refused"
    for label, path in [
        ("console-password-errors", "/organiser/account/password"),
        ("console-event-new-errors", "/organiser/events/new"),
        ("console-catalogue-series-errors", "/organiser/catalogue/series/new"),
        ("console-registration-new-errors", f"/organiser/events/{demo.event}/registrations/new"),
        ("console-message-errors", f"/organiser/events/{demo.event}/message"),
        ("console-sharing-errors", f"/organiser/events/{demo.event}/sharing"),
    ]:
        page.goto(server.url(path))
        with page.expect_navigation():
            page.click("form.console-form button[type=submit]")
        assert page.locator(".error-summary").count() == 1, f"{label}: no error state"
        yield label
    for label, path in [
        ("register-form-errors", f"/events/{demo.event}/register"),
        ("series-form-errors", f"/series/{demo.series}/register"),
    ]:
        page.goto(server.url(path))
        with page.expect_navigation():
            page.click("form.registration-form button[type=submit]")
        yield label
    visited = register_in_browser(page, server, demo.event, "visit")
    yield "confirmation"
    page.goto(server.url("/privacy"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    yield "privacy-form-errors"
    ask_for_data_in_browser(page, server, new_email("privacy"))
    yield "privacy-requested"
    # Erasing the registration just made (the shared demo registration stays for others).
    erase = ask_for_data_in_browser(page, server, visited["email"])["erase"]
    page.goto(server.url(f"/privacy/erase/{erase}"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    yield "privacy-erased"
