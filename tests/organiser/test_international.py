"""Adding someone by hand takes an international address like every other door (issue 13
item 12)."""

from __future__ import annotations

import httpx

from events.db import Database
from events.organiser.models import Organiser
from tests.factories import Factory
from tests.organiser.helpers import give_event
from tests.registration.helpers import csrf_token, registrations


async def test_add_by_hand_takes_an_international_address_once(
    make: Factory, database: Database, organiser: Organiser, console: httpx.AsyncClient
) -> None:
    event = await make.event(capacity=5)
    await give_event(database, event, organiser)
    page = f"/organiser/events/{event.slug}/registrations/new"

    async def add(email: str) -> httpx.Response:
        token = await csrf_token(console, page)
        return await console.post(
            page,
            data={"csrf_token": token, "name": "Jöran", "email": email, "consents": "privacy"},
        )

    assert (await add("jöran@exämple.com")).status_code == 303
    again = await add("JÖRAN@xn--exmple-cua.com")
    assert "done=existing" in again.headers["location"]
    assert [r.email for r in await registrations(database, event.id)] == ["jöran@exämple.com"]
    bad = await add("jöran@exämple")
    assert bad.status_code == 422 and "right format" in bad.text
