"""axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) on every page, in light and dark."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import NewPage
from tests.browser.harness import (
    SIGNED_OUT_ROUTES,
    AppRoute,
    Demo,
    Server,
    axe_violations,
    describe_violations,
    html_routes,
    new_email,
    pages_for,
    sign_in_in_browser,
    visit_every_page,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SCHEMES = ["light", "dark"]


def _audit(page: Page, label: str) -> str | None:
    violations = axe_violations(page)
    return describe_violations(label, page.url, violations) if violations else None


def _assert_clean(reports: list[str | None]) -> None:
    problems = [r for r in reports if r]
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("route", html_routes(), ids=lambda r: r.name)
def test_every_page_of_every_route_passes_axe(
    route: AppRoute, scheme: str, server: Server, demo: Demo, new_page: NewPage
) -> None:
    page = new_page(color_scheme=scheme, signed_in=route.name not in SIGNED_OUT_ROUTES)
    reports = []
    for label, path in pages_for(route, demo):
        response = page.goto(server.url(path))
        assert response is not None and response.status < 500, f"{label}: {path}"
        reports.append(_audit(page, f"{label} [{scheme}]"))
    _assert_clean(reports)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_forms_in_their_error_state_pass_axe(
    scheme: str, server: Server, demo: Demo, new_page: NewPage
) -> None:
    page = new_page(color_scheme=scheme)
    reports = []
    for label, path in [
        ("register-form-errors", f"/events/{demo.event}/register"),
        ("event-page-form-errors", f"/events/{demo.event}"),
        ("series-form-errors", f"/series/{demo.series}/register"),
    ]:
        page.goto(server.url(path))
        with page.expect_navigation():
            page.click("form.registration-form button[type=submit]")
        assert page.locator(".error-summary").is_visible(), label
        reports.append(_audit(page, f"{label} [{scheme}]"))
    _assert_clean(reports)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_confirmation_and_cancellation_pages_pass_axe(
    scheme: str, server: Server, demo: Demo, new_page: NewPage
) -> None:
    page = new_page(color_scheme=scheme)
    reports = []
    email = new_email("confirm")
    page.goto(server.url(f"/events/{demo.event}/register"))
    page.fill("#name", "Sam Example")
    page.fill("#email", email)
    page.check("#consents")
    with page.expect_navigation():
        page.click("form.registration-form button[type=submit]")
    assert page.get_by_role("heading", level=1).inner_text() == "Your place is booked"
    reports.append(_audit(page, f"confirmation [{scheme}]"))

    token = server.outbox_payload(email)["manage_token"]
    page.goto(server.url(f"/r/{token}/cancel"))
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.get_by_role("heading", level=1).inner_text() == "Your place is cancelled"
    reports.append(_audit(page, f"cancelled [{scheme}]"))
    page.goto(server.url(f"/r/{token}"))
    reports.append(_audit(page, f"manage-cancelled [{scheme}]"))

    page.goto(server.url("/events/no-such-event"))
    reports.append(_audit(page, f"not-found [{scheme}]"))
    _assert_clean(reports)


BROKEN_REFERENCES = """() => {
    const problems = [];
    for (const a of document.querySelectorAll('a[href^="#"]')) {
        const id = decodeURIComponent(a.getAttribute('href').slice(1));
        if (id && !document.getElementById(id)) problems.push(`link to #${id} leads nowhere`);
    }
    for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'for']) {
        for (const el of document.querySelectorAll(`[${attr}]`)) {
            for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
                if (!document.getElementById(id)) problems.push(`${attr}="${id}" names nothing`);
            }
        }
    }
    const seen = new Set();
    for (const el of document.querySelectorAll('[id]')) {
        if (seen.has(el.id)) problems.push(`id "${el.id}" is used twice`);
        seen.add(el.id);
    }
    return problems;
}"""


def test_links_and_references_in_every_page_resolve(
    server: Server, demo: Demo, new_page: NewPage
) -> None:
    """Beyond axe: every error summary link lands on its field, every aria reference and
    label names an element, and ids are unique."""
    page = new_page()
    problems = []
    for label in visit_every_page(page, server, demo):
        if found := page.evaluate(BROKEN_REFERENCES):
            problems.append(f"{label} ({page.url}): {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_console_forms_in_their_error_and_done_states_pass_axe(
    scheme: str, server: Server, new_page: NewPage
) -> None:
    reports = []
    signed_out = new_page(color_scheme=scheme, signed_in=False)
    sign_in_in_browser(signed_out, server, password="not the password", expect_ok=False)
    assert signed_out.locator("[role=alert]").first.is_visible()
    reports.append(_audit(signed_out, f"console-login-refused [{scheme}]"))
    signed_out.goto(server.url("/organiser/login"))
    with signed_out.expect_navigation():
        signed_out.click("form.console-form button[type=submit]")
    assert signed_out.locator(".error-summary").is_visible()
    reports.append(_audit(signed_out, f"console-login-empty [{scheme}]"))

    page = new_page(color_scheme=scheme)
    page.goto(server.url("/organiser/account/password"))
    with page.expect_navigation():
        page.click("form.console-form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    reports.append(_audit(page, f"console-password-errors [{scheme}]"))
    page.goto(server.url("/organiser/account/tokens"))
    page.fill("#name", f"Audit {scheme}")
    with page.expect_navigation():
        page.click("form.console-form button[type=submit]")
    assert page.locator("#new-token").is_visible()
    reports.append(_audit(page, f"console-token-created [{scheme}]"))
    _assert_clean(reports)
