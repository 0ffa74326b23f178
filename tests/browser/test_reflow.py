"""Reflow (WCAG 1.4.10) and text spacing (WCAG 1.4.12) on every page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

import pytest

from tests.browser.conftest import NewPage
from tests.browser.harness import Demo, Server, visit_every_page

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.browser


class ContextOptions(TypedDict, total=False):
    """The ``new_context`` options a size needs."""

    viewport: ViewportSize
    device_scale_factor: float


# 320 CSS pixels wide: a small phone, and a 1280 pixel window at 400 % zoom.
NARROW: dict[str, ContextOptions] = {
    "320px": {"viewport": {"width": 320, "height": 640}},
    "1280px-at-400%": {"viewport": {"width": 320, "height": 256}, "device_scale_factor": 4},
}

HORIZONTAL_OVERFLOW = """() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth) return null;
    const wide = [...document.body.querySelectorAll('*')]
        .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
        .filter(el => !el.closest('.visually-hidden, .hp'))
        .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
    return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
}"""

TEXT_SPACING = """() => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(`* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
                           word-spacing: 0.16em !important; }
                       p { margin-bottom: 2em !important; }`);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    return getComputedStyle(document.body).letterSpacing;
}"""

CLIPPED_TEXT = """() => {
    const clips = v => v === 'hidden' || v === 'clip';
    return [...document.body.querySelectorAll('*')].filter(el => {
        if (el.closest('.visually-hidden, .hp, [aria-hidden="true"]')) return false;
        const style = getComputedStyle(el);
        const clipping = clips(style.overflowX) || clips(style.overflowY)
            || style.textOverflow === 'ellipsis';
        if (!clipping) return false;
        if (!el.innerText || !el.innerText.trim()) return false;
        return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
    }).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ': '
        + el.innerText.trim().slice(0, 40));
}"""


def _no_horizontal_scroll(page: Page, label: str) -> str | None:
    overflow: dict[str, Any] | None = page.evaluate(HORIZONTAL_OVERFLOW)
    return f"{label} ({page.url}) scrolls sideways: {overflow}" if overflow else None


def _spacing_problems(page: Page, label: str) -> list[str]:
    """Apply the WCAG 1.4.12 text spacing overrides to the page in view; what they break."""
    assert page.evaluate(TEXT_SPACING) != "normal", "the spacing overrides did not apply"
    problems = []
    if clipped := page.evaluate(CLIPPED_TEXT):
        problems.append(f"{label} ({page.url}) clips text with spacing overridden: {clipped}")
    if overflow := _no_horizontal_scroll(page, label):
        problems.append(f"with spacing overridden: {overflow}")
    return problems


@pytest.mark.parametrize("size", list(NARROW))
def test_every_page_reflows_without_horizontal_scrolling(
    size: str, server: Server, demo: Demo, new_page: NewPage
) -> None:
    """At 320 CSS pixels nothing scrolls sideways. On the phone-sized walk each page is then
    checked again with the text spacing overrides applied (one walk serves both checks)."""
    page = new_page(**NARROW[size])
    problems: list[str] = []
    for label in visit_every_page(page, server, demo):
        if overflow := _no_horizontal_scroll(page, label):
            problems.append(overflow)
        elif size == "320px":
            problems.extend(_spacing_problems(page, label))
    assert not problems, "\n".join(problems)


def test_text_spacing_overrides_lose_no_content_on_a_wide_window(
    server: Server, demo: Demo, new_page: NewPage
) -> None:
    """The text spacing overrides at 1280 pixels (320 pixels: checked in the walk above)."""
    page = new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    for label in visit_every_page(page, server, demo):
        problems.extend(_spacing_problems(page, label))
    assert not problems, "\n".join(problems)
