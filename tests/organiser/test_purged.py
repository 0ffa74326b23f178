"""What organisers see after retention and erasure: "purged", not blanks, and counts that
still add up."""

from __future__ import annotations

import datetime as dt

import httpx

from events.audit.service import MEMBER
from events.db import unit_of_work
from events.organiser.models import Organiser
from events.privacy import service as privacy
from events.privacy.service import Purge
from tests.factories import TEST_SIGNER, Factory, register
from tests.organiser.helpers import give_event, sign_in


async def test_purged_access_needs_and_erased_people_are_said_so(
    console: httpx.AsyncClient, make: Factory, organiser: Organiser
) -> None:
    event = await make.event("Past webinar", starts_at=make.clock.now() + dt.timedelta(days=1))
    await give_event(make.database, event, organiser)
    consents = ["privacy", "access_data"]
    await register(make, event, "a@example.org", access_requirements=["bsl"], consents=consents)
    await register(make, event, "b@example.org", access_requirements=["bsl"], consents=consents)
    make.clock.advance(dt.timedelta(days=40))

    async with unit_of_work(make.database.writer) as session:
        done: Purge = await privacy.purge_expired(
            session, make.clock, access_days=30, registration_days=730
        )
        await privacy.erase_email(
            session,
            make.clock,
            email="b@example.org",
            signer=TEST_SIGNER,
            actor=MEMBER,
        )
    assert done.access_purged == 2

    await sign_in(console, make.database, make.clock, organiser)  # weeks later: a new session
    page = await console.get(f"/organiser/events/{event.slug}/registrations")
    assert page.status_code == 200
    assert "Purged: the access requirements of 1 person were removed" in page.text
    assert "British Sign Language" not in page.text
    assert "b@example.org" not in page.text and "a@example.org" in page.text
    assert "include 1 person whose details were erased" in page.text
    export = await console.get(f"/organiser/events/{event.slug}/registrations.csv")
    assert "purged after the event" in export.text and "b@example.org" not in export.text
