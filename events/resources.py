"""Where the templates, migrations and static files live.

In a checkout (and an editable install) they sit beside the package; a built wheel carries
them inside it (see ``force-include`` in pyproject.toml). Everything that needs one of these
folders asks here, so the two layouts never drift apart.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    beside = PACKAGE_DIR.parent / name
    if beside.is_dir():
        return beside
    raise RuntimeError(f"the {name!r} folder is missing from this installation")


def templates_dir() -> Path:
    return resource_dir("templates")


def migrations_dir() -> Path:
    return resource_dir("migrations")


def static_dir() -> Path:
    return PACKAGE_DIR / "web" / "static"
