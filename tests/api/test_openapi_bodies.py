"""Request bodies hold what the OpenAPI document says: a field it calls nullable takes
``null``, and an empty string is refused wherever an enum or a pattern applies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from events.clock import FrozenClock
from events.db import Database
from events.organiser.models import Organiser
from tests.api.test_openapi import fetch_document
from tests.api.test_organiser_api import bearer, event_body, token_for
from tests.factories import Factory
from tests.organiser.helpers import give_event, new_organiser

PUBLIC_BODY = {"name": "Sam Teacher", "email": "sam@example.org", "consents": ["privacy"]}


def _properties(document: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document["components"]["schemas"][model]["properties"]
    return found


def _nullable(prop: dict[str, Any]) -> bool:
    return {"type": "null"} in prop.get("anyOf", []) or "null" in prop.get("type", [])


def _constrained(document: dict[str, Any], prop: dict[str, Any]) -> bool:
    options = [prop, *prop.get("anyOf", [])]
    for option in options:
        if "$ref" in option:
            option = document["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]
        if option.get("type") == "string" and ({"enum", "pattern"} & set(option)):
            return True
    return False


@pytest.fixture
async def organiser(database: Database, clock: FrozenClock) -> Organiser:
    return await new_organiser(database, clock)


@pytest.fixture
async def doors(
    make: Factory, database: Database, clock: FrozenClock, organiser: Organiser
) -> dict[str, tuple[str, str, dict[str, Any], dict[str, str]]]:
    """model -> (method, path, a valid body, headers)."""
    public = await make.event("Open", capacity=50)
    mine = await make.event("Mine", capacity=50)
    await give_event(database, mine, organiser)
    auth = bearer(await token_for(database, clock, organiser))
    base = f"/api/v1/organiser/events/{mine.slug}"
    return {
        "RegistrationRequest": (
            "POST",
            f"/api/v1/events/{public.slug}/registrations",
            PUBLIC_BODY,
            {},
        ),
        "EventCreate": ("POST", "/api/v1/organiser/events", event_body(), auth),
        "EventChanges": ("PATCH", base, {}, auth),
        "OrganiserRegistrationRequest": ("POST", f"{base}/registrations", PUBLIC_BODY, auth),
    }


async def test_fields_documented_nullable_accept_null(
    client: httpx.AsyncClient, doors: dict[str, tuple[str, str, dict[str, Any], dict[str, str]]]
) -> None:
    document = await fetch_document(client)
    lies, checked = [], 0
    for model, (method, path, body, headers) in doors.items():
        for name, prop in _properties(document, model).items():
            if not _nullable(prop):
                continue
            checked += 1
            answer = await client.request(method, path, json={**body, name: None}, headers=headers)
            if answer.status_code == 422 and name in answer.json().get("fields", {}):
                lies.append((model, name))
    assert checked >= 5
    assert lies == [], lies


async def test_empty_strings_are_refused_where_an_enum_or_pattern_applies(
    client: httpx.AsyncClient, doors: dict[str, tuple[str, str, dict[str, Any], dict[str, str]]]
) -> None:
    document = await fetch_document(client)
    lies, checked = [], 0
    for model, (method, path, body, headers) in doors.items():
        for name, prop in _properties(document, model).items():
            if not _constrained(document, prop):
                continue
            answer = await client.request(method, path, json={**body, name: ""}, headers=headers)
            checked += 1
            if answer.status_code != 422 or name not in answer.json().get("fields", {}):
                lies.append((model, name, answer.status_code))
    assert checked >= 5
    assert lies == [], lies
