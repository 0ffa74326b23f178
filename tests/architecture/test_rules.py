"""The written conventions of ARCHITECTURE.md, checked on the source so they cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "events"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _calls(tree: ast.AST, attribute: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attribute
    ]


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_rule_files_exist() -> None:
    assert any(p.name == "service.py" for p in SOURCES)
    assert any(p.name == "views.py" for p in SOURCES)


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if p.name in {"service.py", "views.py", "queries.py", "cli.py"}],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_services_views_and_commands_never_commit(path: Path) -> None:
    """Commit happens once, at the edge (db.unit_of_work), never mid-way through a rule."""
    assert _calls(_tree(path), "commit") == []


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if p.name == "views.py"], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_views_do_not_build_queries(path: Path) -> None:
    """Handlers parse, call a service or query, render: SQL lives in services and queries."""
    imported = _imports(_tree(path))
    assert not {
        name for name in imported if name == "sqlalchemy" or name.startswith("sqlalchemy.")
    } - {"sqlalchemy.ext.asyncio"}
    assert _calls(_tree(path), "execute") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_settings_read_the_environment(path: Path) -> None:
    if path.name == "config.py":
        return
    source = path.read_text()
    assert "os.environ" not in source and "getenv(" not in source


def test_no_model_uses_lazy_loading() -> None:
    """Relationships are lazy="raise": async lazy loads and N+1 queries become errors."""
    for path in SOURCES:
        if path.name != "models.py":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "relationship":
                lazy = {kw.arg: kw.value for kw in node.keywords}.get("lazy")
                assert isinstance(lazy, ast.Constant) and lazy.value in {
                    "raise",
                    "selectin",
                    "joined",
                }, f"{path.name}:{node.lineno} relationship without an explicit eager/raise loader"
