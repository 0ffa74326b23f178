"""A plain (non-editable) install carries the templates, migrations and static files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_templates_migrations_and_static_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("events-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ROOT.joinpath("templates").rglob("*.html"):
        assert f"events/templates/{template.relative_to(ROOT / 'templates')}" in names
    for migration in ROOT.joinpath("migrations").rglob("*.py"):
        assert f"events/migrations/{migration.relative_to(ROOT / 'migrations')}" in names
    assert "events/migrations/script.py.mako" in names
    assert "events/web/static/site.css" in names
