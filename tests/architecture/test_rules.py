"""The written conventions of docs/architecture.md, checked on the source so they cannot drift.

Modules are classified by what they do, not by what they are called:

- a **handler module** holds an endpoint some route of the app calls (found by walking the
  app's routes), whatever its file name;
- a **service module** holds a function whose first parameter is an ``AsyncSession``;
- a **command-line edge** is a module that builds click commands.

Which package may import which is import-linter's job (``lint-imports``, configured in
pyproject.toml); these tests hold the rules an import graph cannot see.
"""

from __future__ import annotations

import ast
import inspect
from functools import cache
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount, Route

PACKAGE = Path(__file__).resolve().parents[2] / "events"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _calls(tree: ast.AST, *attributes: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in attributes
    ]


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _endpoint_files() -> set[Path]:
    """The files that hold an endpoint of some route: the app's handler modules."""
    from events.app import create_app
    from events.config import Settings

    app = create_app(
        Settings(env="test", database_url="sqlite:///unused_test.sqlite3", secret_key="x" * 40)
    )
    files: set[Path] = set()

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(list(route.routes))
            elif isinstance(route, Route):
                source = inspect.getsourcefile(inspect.unwrap(route.endpoint))
                if source is not None:
                    files.add(Path(source).resolve())

    walk(list(app.routes))
    return {path for path in files if PACKAGE in path.parents}


HANDLER_MODULES = sorted(_endpoint_files())


def _first_parameter_is_session(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    arguments = [*node.args.posonlyargs, *node.args.args]
    if not arguments:
        return False
    annotation = arguments[0].annotation
    return annotation is not None and ast.unparse(annotation) == "AsyncSession"


SERVICE_MODULES = sorted(
    path
    for path in SOURCES
    if path not in HANDLER_MODULES
    and any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _first_parameter_is_session(node)
        for node in ast.walk(_tree(path))
    )
)
COMMAND_LINE_EDGES = sorted(path for path in SOURCES if "click" in _imports(_tree(path)))


def test_roles_are_found() -> None:
    """The classification finds what it should (a broken walk would pass every rule below)."""
    names = {_name(p) for p in HANDLER_MODULES}
    assert {"registration/views.py", "catalog/views.py", "api/views.py"} <= names
    assert len(HANDLER_MODULES) >= 10
    assert "registration/capacity.py" in {_name(p) for p in SERVICE_MODULES}
    assert [_name(p) for p in COMMAND_LINE_EDGES] == ["cli.py"]


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_nothing_commits_but_the_unit_of_work(path: Path) -> None:
    """Commit happens once, at the edge (db.unit_of_work), never mid-way through a rule: no
    module but db.py calls commit or rollback, whatever its role or name."""
    if _name(path) == "db.py":
        return
    assert _calls(_tree(path), "commit", "rollback") == []


@pytest.mark.parametrize("path", HANDLER_MODULES, ids=_name)
def test_handlers_do_not_build_queries(path: Path) -> None:
    """Handlers parse, call a service or query, render: SQL lives in services and queries."""
    imported = _imports(_tree(path))
    assert not {
        name for name in imported if name == "sqlalchemy" or name.startswith("sqlalchemy.")
    } - {"sqlalchemy.ext.asyncio"}
    assert _calls(_tree(path), "execute", "scalars", "scalar") == []


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_name)
def test_services_know_nothing_of_http(path: Path) -> None:
    """Services take a session, a clock and plain values: no request, no response."""
    imported = _imports(_tree(path))
    assert not {name for name in imported if name.split(".")[0] == "starlette"}


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_imports_of_our_own_modules_stand_at_the_top(path: Path) -> None:
    """A function-local import is how an import cycle hides; only the command-line edge
    imports lazily (so ``events --help`` starts fast)."""
    if path in COMMAND_LINE_EDGES:
        return
    tree = _tree(path)
    top_level = {id(node) for node in tree.body}
    hidden = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and id(node) not in top_level
        and not _under_type_checking(tree, node)
        and any(
            name == "events" or name.startswith("events.")
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        )
    ]
    assert hidden == []


def _under_type_checking(tree: ast.Module, target: ast.AST) -> bool:
    return any(
        isinstance(node, ast.If)
        and ast.unparse(node.test).endswith("TYPE_CHECKING")
        and any(child is target for child in ast.walk(node))
        for node in tree.body
    )


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_only_settings_read_the_environment(path: Path) -> None:
    if path.name == "config.py":
        return
    source = path.read_text()
    assert "os.environ" not in source and "getenv(" not in source


def test_no_model_uses_lazy_loading() -> None:
    """Relationships are lazy="raise": async lazy loads and N+1 queries become errors."""
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "relationship":
                lazy = {kw.arg: kw.value for kw in node.keywords}.get("lazy")
                assert isinstance(lazy, ast.Constant) and lazy.value in {
                    "raise",
                    "selectin",
                    "joined",
                }, f"{path.name}:{node.lineno} relationship without an explicit eager/raise loader"
