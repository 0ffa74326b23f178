"""Console pages are personal: never stored by any cache, never indexed, no referrer."""

from __future__ import annotations

import httpx
import pytest

from events.organiser.models import Organiser
from tests.factories import Factory
from tests.organiser.helpers import give_event


@pytest.mark.parametrize(
    "path",
    [
        "/organiser/",
        "/organiser/events",
        "/organiser/events/new",
        "/organiser/events/{slug}",
        "/organiser/events/{slug}/edit",
        "/organiser/events/{slug}/registrations",
        "/organiser/account",
    ],
)
async def test_console_pages_are_never_stored(
    console: httpx.AsyncClient, make: Factory, organiser: Organiser, path: str
) -> None:
    event = await make.event("Mine")
    await give_event(make.database, event, organiser)
    response = await console.get(path.format(slug=event.slug))
    assert response.status_code == 200, response.text[:300]
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
