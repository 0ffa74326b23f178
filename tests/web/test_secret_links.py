"""Secret-link doors share one throttle per client address that counts failed lookups."""

from __future__ import annotations

import httpx

from events.web.secret_links import FAILURES
from tests.factories import Factory, register
from tests.registration.helpers import latest_token

BAD = "x" * 43
DOORS = [
    f"/r/{BAD}",
    f"/r/{BAD}/cancel",
    f"/j/{BAD}",
    f"/c/{BAD}.ics",
    f"/c/{BAD}/1/join",
    f"/privacy/erase/{BAD}",
    f"/alerts/confirm/{BAD}",
    f"/alerts/unsubscribe/{BAD}",
]


async def test_guessing_across_every_door_is_answered_429(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    real = await latest_token(make.database, "jo@example.org")
    answers = [(await client.get(DOORS[i % len(DOORS)])).status_code for i in range(FAILURES)]
    assert set(answers) == {404}  # every door counts, none is refused yet
    for door in [*DOORS, f"/r/{real}"]:  # now every door, even a working link, waits
        refused = await client.get(door)
        assert refused.status_code == 429, door
        assert int(refused.headers["retry-after"]) > 0
    unsubscribe = await client.post(f"/alerts/unsubscribe/{BAD}", data={})
    assert unsubscribe.status_code == 429


async def test_a_person_following_their_own_link_is_never_throttled(
    client: httpx.AsyncClient, make: Factory
) -> None:
    event = await make.event(capacity=5)
    await register(make, event, "jo@example.org")
    token = await latest_token(make.database, "jo@example.org")
    for _ in range(FAILURES * 2):
        assert (await client.get(f"/r/{token}")).status_code == 200
    assert (await client.get(f"/r/{BAD}")).status_code == 404  # a mistyped link: still 404
