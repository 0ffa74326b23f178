"""Fixtures for the real-browser tests: the demo app on loopback and headless Chromium.

They skip locally when Playwright or Chromium is missing, and fail under ``CI=true``
(.ci/run installs Debian's chromium and the test extra installs Playwright).

Package scope, not session: Playwright's sync API keeps an asyncio loop running in the main
thread while it is started, which would break every asyncio test collected after these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.harness import (
    IN_CI,
    Demo,
    Server,
    ask_for_data_in_browser,
    launched_browser,
    load_demo,
    missing_browser,
    register_in_browser,
    results_in_browser,
    running_server,
    sign_in_in_browser,
    subscribe_in_browser,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    problem = missing_browser()
    if problem is not None:
        if IN_CI:
            pytest.fail(problem + "; under CI=true the browser tests are mandatory")
        pytest.skip(problem)
    with launched_browser() as browser:
        yield browser


@pytest.fixture(scope="package")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Asks for the browser first, so a machine without one skips before starting the app.
    with running_server(tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(scope="package")
def demo(server: Server, browser: Browser) -> Demo:
    """Demo slugs, and the tokens of one registration made through the form."""
    demo = load_demo(server)
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        demo.tokens = register_in_browser(page, server, demo.event, "audit")
        demo.tokens.update(subscribe_in_browser(page, server, demo.topic, "alerts"))
        demo.tokens.update(ask_for_data_in_browser(page, server, demo.tokens["email"]))
        demo.tokens.update(results_in_browser(page, server, demo))
    finally:
        context.close()
    return demo


@pytest.fixture(scope="package")
def console_cookies(server: Server, browser: Browser) -> list[Any]:
    """The cookies of a browser signed in to the organiser console through its login form."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        sign_in_in_browser(context.new_page(), server)
        cookies: list[Any] = context.cookies()
    finally:
        context.close()
    return cookies


NewPage = Callable[..., "Page"]


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """A page in a fresh context: ``new_page(viewport=..., java_script_enabled=False, ...)``.
    It is signed in to the organiser console unless ``signed_in=False``."""
    contexts: list[Any] = []

    def make(*, signed_in: bool = True, **options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        if signed_in:
            context.add_cookies(request.getfixturevalue("console_cookies"))
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()
