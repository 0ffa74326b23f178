"""Keyboard only, with and without JavaScript: from the home page to a booked place and back
out again, with Tab, Shift+Tab, Enter and Space alone; focus always lands where expected and
is always visible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import NewPage
from tests.browser.harness import Demo, Server, new_email

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    const rect = el.getBoundingClientRect();
    return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '',
            href: el.getAttribute('href') || '', text: (el.innerText || el.value || '').trim(),
            indicator: Boolean(outline || shadow), visible: rect.width > 0 && rect.height > 0,
            inView: rect.bottom > 0 && rect.top < window.innerHeight};
}"""
INTERACTIVE = {"a", "button", "input", "select", "textarea", "summary"}


def focused(page: Page) -> dict[str, Any]:
    info: dict[str, Any] | None = page.evaluate(FOCUSED)
    assert info is not None, f"focus is lost (on the body) at {page.url}"
    if info["tag"] in INTERACTIVE:
        assert info["indicator"], f"no visible focus indicator on {info} at {page.url}"
        assert info["visible"] and info["inView"], f"focused element not on screen: {info}"
    return info


def press(page: Page, key: str) -> dict[str, Any]:
    page.keyboard.press(key)
    return focused(page)


def tab_until(page: Page, matches: Any, *, key: str = "Tab", limit: int = 150) -> dict[str, Any]:
    """Press KEY until the focused element matches; every stop must show its focus."""
    seen = []
    for _ in range(limit):
        info = press(page, key)
        if matches(info):
            return info
        seen.append(f"{info['tag']}#{info['id']}:{info['text'][:30] or info['href']}")
    raise AssertionError(f"{key} never reached the element at {page.url}; stops: {seen}")


def activate(page: Page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def h1(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_register_and_cancel_with_the_keyboard_alone(
    javascript: bool, server: Server, demo: Demo, new_page: NewPage
) -> None:
    page = new_page(java_script_enabled=javascript)
    page.goto(server.url("/"))

    # The first Tab reaches the skip link, which moves focus to the main content.
    assert press(page, "Tab")["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Home → the event.
    tab_until(page, lambda f: f["tag"] == "a" and f["href"].endswith(f"/events/{demo.event}"))
    activate(page)
    assert page.url.endswith(f"/events/{demo.event}")

    # Send the form empty first: the error summary explains, and its links are reachable.
    tab_until(page, lambda f: f["tag"] == "input" and f["id"] == "name")
    button = tab_until(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
    assert button["text"] in {"Register", "Join the waiting list"}
    activate(page)
    assert page.title().startswith("Error:")
    tab_until(page, lambda f: f["tag"] == "a" and f["href"] == "#name")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "name"

    # Fill it in: type into the fields, tick the consent with Space, go back with Shift+Tab.
    email = new_email("keyboard")
    page.keyboard.type("Kim Keyboard")
    assert press(page, "Tab")["id"] == "email"
    page.keyboard.type(email)
    tab_until(page, lambda f: f["tag"] == "input" and f["id"] == "consents")
    page.keyboard.press("Space")
    assert page.is_checked("#consents")
    # Shift+Tab goes back through the form to the email field, Tab forwards again.
    tab_until(page, lambda f: f["id"] == "email", key="Shift+Tab")
    assert page.input_value("#email") == email
    tab_until(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
    activate(page)

    # Confirmation.
    assert h1(page) == "Your place is booked"
    assert press(page, "Tab")["text"] == "Skip to main content"
    back = tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Back to the event")
    assert back["href"].endswith(f"/events/{demo.event}")

    # The management link from the email → cancel.
    token = server.outbox_payload(email)["manage_token"]
    page.goto(server.url(f"/r/{token}"))
    assert h1(page) == "Your registration"
    tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Cancel my place")
    activate(page)
    assert h1(page) == "Cancel your place?"
    confirm = tab_until(page, lambda f: f["tag"] == "button")
    assert confirm["text"] == "Yes, cancel my place"
    # "No, keep it" is next; Shift+Tab comes back to the button, and Space presses it.
    assert press(page, "Tab")["text"] == "No, keep it"
    assert press(page, "Shift+Tab")["text"] == "Yes, cancel my place"
    activate(page, "Space")
    assert h1(page) == "Your place is cancelled"
    tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Back to the event")
