"""Links are built from route names, not written out: no console path is hard-coded in a
template or a redirect."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_templates_build_console_links_from_route_names() -> None:
    written = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"""["']/organiser""", line)
    ]
    assert written == []


def test_views_redirect_by_route_name() -> None:
    written = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "events").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"""(RedirectResponse\(|target = |return )f?["']/organiser""", line)
    ]
    assert written == []
