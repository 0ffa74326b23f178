"""The mail room is a layer under the rooms: it knows no room. The worker claims,
dispatches by kind, sends and records; the rooms' rules come from ``events/wiring.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MAIL = Path(__file__).resolve().parents[2] / "events" / "mail"
ROOMS = ("alerts", "catalog", "organiser", "privacy", "registration", "calendar", "api")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(MAIL.glob("*.py")), ids=lambda p: p.name)
def test_mail_imports_no_room(path: Path) -> None:
    rooms = {
        name
        for name in _imported(path)
        for room in ROOMS
        if name == f"events.{room}" or name.startswith(f"events.{room}.")
    }
    assert rooms == set(), f"events/mail/{path.name} imports {sorted(rooms)}"
    assert "events.wiring" not in _imported(path)


def test_the_worker_holds_no_kind_names() -> None:
    """Rules about kinds live with their rooms' handlers, never in the worker."""
    source = (MAIL / "worker.py").read_text()
    for kind in ("confirmed", "reminder", "alert", "subject_access", "cancelled"):
        assert f'"{kind}"' not in source
