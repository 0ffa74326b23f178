"""The catalogue reacts to nothing: it imports none of the rooms that react to its
changes (registration, mail, alerts, organiser, privacy), nor the application's lifecycle
step that applies those reactions. Checked on the source (every import statement, at any
depth, so a function-local import cannot hide one) and on what importing it loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import events

CATALOG = Path(events.__file__).parent / "catalog"
FORBIDDEN = (
    "events.registration",
    "events.mail",
    "events.alerts",
    "events.organiser",
    "events.privacy",
    "events.lifecycle",
    "events.api",
)
# What the catalogue's domain modules load (its views sit on the web layer, checked above).
DOMAIN = ("fields", "lifecycle", "models", "presentation", "queries", "schemas", "slugs")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_catalog_source_imports_no_room_that_reacts_to_it() -> None:
    found = {
        f"{path.name}: {name}"
        for path in sorted(CATALOG.glob("*.py"))
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert found == set()


def test_importing_the_catalogue_loads_no_room_that_reacts_to_it() -> None:
    modules = ", ".join(f"events.catalog.{name}" for name in DOMAIN)
    script = (
        f"import sys, {modules}\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []


def _graph() -> dict[str, set[str]]:
    """Which events modules each events module imports, at any depth (a function-local
    import counts: it is how a cycle hides)."""
    root = Path(events.__file__).parent
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for imported in _imports(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                found.add(imported)
        graph[name] = found
    return graph


def test_no_import_cycle_anywhere_even_through_function_local_imports() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
