"""The privacy notice and the accessibility statement, in sight: their public pages, the
footer of every public page, and the consent forms (issue 16 item 10)."""

from __future__ import annotations

import re

import httpx
import pytest

from events.privacy import notices
from tests.factories import Factory

FOOTER = re.compile(r'<footer class="site-footer">(.*?)</footer>', re.S)


def footer(html: str) -> str:
    found = FOOTER.search(html)
    assert found is not None, "no site footer"
    return found.group(1)


async def test_the_privacy_notice_ships_with_real_text_and_this_sites_retention(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/privacy-notice")
    assert page.status_code == 200
    assert "<h1>Privacy notice</h1>" in page.text
    for heading in ("What we collect", "Why we use it", "How long we keep it", "Who sees it"):
        assert f"<h2>{heading}</h2>" in page.text
    # The settings' periods (30 days, 730 days), not placeholders.
    assert "deleted 30 days after the event" in page.text
    assert "2 years after the event" in page.text
    assert "$" not in page.text
    assert (
        'href="/privacy" rel="noopener nofollow noreferrer">privacy requests page</a>' in page.text
    )


async def test_the_accessibility_statement_ships_in_the_public_sector_style(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/accessibility")
    assert page.status_code == 200
    assert "<h1>Accessibility statement</h1>" in page.text
    assert "WCAG) version 2.2 at level AA" in page.text
    for tested in ("axe", "keyboard", "320 pixels", "screen-reader-friendly"):
        assert tested in page.text
    for heading in ("How we tested this website", "Feedback and contact information"):
        assert f"<h2>{heading}</h2>" in page.text


@pytest.mark.parametrize(
    "path", ["/", "/events", "/topics", "/privacy", "/privacy-notice", "/accessibility"]
)
async def test_every_public_page_footer_links_the_notices_and_privacy_requests(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    links = footer(page.text)
    assert 'href="/privacy-notice"' in links
    assert 'href="/privacy"' in links
    assert 'href="/accessibility"' in links


async def test_event_and_topic_pages_footers_link_them_too(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND")
    event = await make.event(topics=[topic])
    for path in (f"/events/{event.slug}", f"/topics/{topic.slug}"):
        links = footer((await client.get(path)).text)
        assert 'href="/privacy-notice"' in links and 'href="/accessibility"' in links


def _consent_fieldset(html: str) -> str:
    found = re.search(r"<legend>Your details</legend>(.*?)</fieldset>", html, re.S)
    assert found is not None, "no consent fieldset"
    return found.group(1)


async def test_the_registration_consents_link_the_privacy_notice(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event()
    for path in (f"/events/{event.slug}", f"/events/{event.slug}/register"):
        consents = _consent_fieldset((await client.get(path)).text)
        assert '<a href="/privacy-notice">privacy notice</a>' in consents


async def test_the_series_form_consents_link_the_privacy_notice(
    client: httpx.AsyncClient, make: Factory
) -> None:
    series = await make.series("Webinars")
    await make.event(series=series)
    page = await client.get(f"/series/{series.slug}/register")
    assert page.status_code == 200
    assert '<a href="/privacy-notice">privacy notice</a>' in _consent_fieldset(page.text)


async def test_the_alerts_subscription_form_links_the_privacy_notice(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND")
    for path in (f"/topics/{topic.slug}", f"/alerts/topics/{topic.slug}"):
        page = (await client.get(path)).text
        form = re.search(r'<form[^>]*class="subscribe-form".*?</form>', page, re.S)
        assert form is not None
        assert '<a href="/privacy-notice">privacy notice</a>' in form.group(0)


def test_default_periods_read_as_people_say_them() -> None:
    assert notices.period(30) == "30 days"
    assert notices.period(1) == "1 day"
    assert notices.period(365) == "1 year"
    assert notices.period(730) == "2 years"
    assert notices.period(800) == "800 days"
