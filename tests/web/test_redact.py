"""No secret link reaches a log line."""

from __future__ import annotations

import httpx
import pytest

from events.registration.tokens import LinkSet, new_token
from events.web.redact import redact_path
from tests.factories import TEST_SIGNER


@pytest.mark.parametrize("prefix", ["/r/", "/j/", "/c/", "/alerts/unsubscribe/", "/x/y/"])
def test_tokens_are_redacted_from_paths(prefix: str) -> None:
    links = LinkSet.generate(TEST_SIGNER)
    for token in (links.manage, links.join, links.calendar, new_token(), "evt_" + new_token()):
        for path in (f"{prefix}{token}", f"{prefix}{token}/cancel", f"{prefix}{token}.ics"):
            redacted = redact_path(path)
            assert token not in redacted and "[redacted]" in redacted


@pytest.mark.parametrize(
    "path",
    [
        "/events/send-national-crisis-day-manchester-2027",
        "/topics/special-educational-needs-and-disabilities/calendar.ics",
        "/api/v1/events",
        "/organiser/events/small-group-interventions-session-3/registrations.csv",
    ],
)
def test_ordinary_paths_are_kept(path: str) -> None:
    assert redact_path(path) == path


async def test_a_private_page_keeps_its_stricter_referrer_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/privacy")
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    public = await client.get("/")
    assert public.headers.get_list("referrer-policy") == ["strict-origin-when-cross-origin"]


async def test_a_personal_page_with_a_form_is_never_stored(client: httpx.AsyncClient) -> None:
    """The CSRF filler marks form pages private; a page that forbids storing keeps no-store."""
    response = await client.get("/privacy")
    assert 'name="csrf_token"' in response.text
    assert response.headers.get_list("cache-control") == ["no-store"]
    public = await client.get("/events")
    assert "no-store" not in public.headers.get("cache-control", "")
