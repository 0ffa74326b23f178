"""The low layers (``kit``, ``web``) import no room, and the app's long-lived objects reach
code through the typed ``AppContext`` rather than untyped ``app.state`` attributes."""

from __future__ import annotations

import ast
from pathlib import Path

from starlette.applications import Starlette

from events.calendar.cache import CalendarCache
from events.kit.throttle import RateLimiter
from events.web.context import AppContext
from events.web.csrf import Csrf

PACKAGE = Path(__file__).resolve().parents[2] / "events"
LOW = {"kit", "web"}
BELOW = {"kit", "web", "db", "config", "clock", "errors", "resources"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "events":
            found |= {f"events.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("events."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("events.")}
    return found


def test_kit_and_web_import_no_room() -> None:
    wrong = [
        (str(path.relative_to(PACKAGE)), module)
        for layer in LOW
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for module in _imports(path)
        if module.split(".")[1] not in BELOW
    ]
    assert wrong == []


def test_kit_imports_nothing_above_it() -> None:
    wrong = [
        (str(path.relative_to(PACKAGE)), module)
        for path in sorted((PACKAGE / "kit").rglob("*.py"))
        for module in _imports(path)
        if module.split(".")[1] in {"web"}
    ]
    assert wrong == []


def test_csrf_limiter_and_calendar_cache_live_in_the_typed_context(app: Starlette) -> None:
    context = app.state.context
    assert isinstance(context, AppContext)
    assert isinstance(context.csrf, Csrf)
    assert isinstance(context.rate_limiter, RateLimiter)
    assert isinstance(context.part(CalendarCache), CalendarCache)
    assert set(vars(app.state)["_state"]) == {"context"}
