"""Every GET route of the app is either mapped to audited pages or excluded with a reason."""

from __future__ import annotations

from tests.browser.harness import NOT_HTML, PAGES, exclusion_reason, get_routes


def test_route_enumeration_finds_the_pages_we_know() -> None:
    names = {route.name for route in get_routes()}
    assert {"catalog:home", "catalog:event", "registration:manage", "api:events"} <= names


def test_every_html_route_has_pages_to_audit() -> None:
    unmapped = [
        f"{route.name} ({route.path})"
        for route in get_routes()
        if exclusion_reason(route) is None and route.name not in PAGES
    ]
    assert not unmapped, (
        "HTML routes without pages for the browser tests (add them to PAGES in "
        f"tests/browser/harness.py): {', '.join(unmapped)}"
    )


def test_mappings_and_exclusions_name_real_routes() -> None:
    names = {route.name for route in get_routes()}
    stale = sorted((set(PAGES) | set(NOT_HTML)) - names)
    assert not stale, f"PAGES/NOT_HTML name routes the app no longer has: {stale}"
