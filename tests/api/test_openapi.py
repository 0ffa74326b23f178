"""The OpenAPI document: it lists every mounted route, and real answers match its schemas."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from events.api import openapi
from events.api.schemas import REQUEST_MODELS, RESPONSE_MODELS
from events.catalog.models import Event, EventFormat
from events.db import Database
from events.errors import InvalidInput
from tests.factories import Factory

API_PREFIX = "/api/v1"
UTC = dt.UTC


async def fetch_document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


async def set_places_left(database: Database, slug: str, places_left: int) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(update(Event).where(Event.slug == slug).values(places_left=places_left))


def mounted_operations(app: Starlette) -> set[tuple[str, str]]:
    """(path, method) for every route the app serves under /api/v1, found independently."""
    found: set[tuple[str, str]] = set()
    for mount in app.routes:
        if isinstance(mount, Mount) and mount.path == API_PREFIX:
            for route in mount.routes:
                assert isinstance(route, Route)
                assert route.methods is not None
                path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)  # drop converters
                for method in route.methods - {"HEAD"}:
                    found.add((API_PREFIX + path, method.lower()))
    assert found, "nothing is mounted under /api/v1"
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item}


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and len(node) == 1:
        pointer = node["$ref"].removeprefix("#/").split("/")
        target: Any = document
        for part in pointer:
            target = target[part]
        node = target
    return node


def response_validator(
    document: dict[str, Any], path: str, status: int, method: str = "get"
) -> Draft202012Validator:
    response = resolve(document, document["paths"][path][method]["responses"][str(status)])
    schema = response["content"]["application/json"]["schema"]
    # $refs are "#/components/...": resolve them against a root that carries the components.
    return Draft202012Validator({"allOf": [schema], "components": document["components"]})


def assert_offsets(value: Any) -> None:
    """Every *_at value is ISO 8601 with an explicit UTC offset (never "Z", never naive)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_at"):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", item), item
            assert_offsets(item)
    elif isinstance(value, list):
        for item in value:
            assert_offsets(item)


async def test_openapi_document_lists_every_api_route(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    document = await fetch_document(client)
    assert documented_operations(document) == mounted_operations(app)


async def test_openapi_document_declares_openapi_3_1_when_fetched(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["servers"] == [{"url": "http://testserver"}]
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"Error", "EventList", "EventItem", "EventDetail"} <= set(
        document["components"]["schemas"]
    )
    assert set(document["components"]["responses"]) == set(openapi.RESPONSES)


async def test_openapi_document_describes_every_path_parameter(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    for path, item in document["paths"].items():
        in_path = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, path
            for parameter in operation.get("parameters", []):
                assert parameter["description"], (path, parameter["name"])
                Draft202012Validator.check_schema(parameter["schema"])


async def test_openapi_document_resolves_every_ref(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolve(document, {"$ref": node["$ref"]})  # raises KeyError when dangling
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


async def test_openapi_document_errors_documented_when_endpoint_can_fail(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    paths = document["paths"]
    assert "422" in paths[f"{API_PREFIX}/events"]["get"]["responses"]
    for path in ("/events/{slug}", "/series/{slug}", "/campaigns/{slug}"):
        assert "404" in paths[API_PREFIX + path]["get"]["responses"]
    assert "422" in paths[f"{API_PREFIX}/campaigns/{{slug}}"]["get"]["responses"]


async def test_openapi_schemas_come_from_response_models(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)
    assert document["components"]["schemas"] == openapi.component_schemas()
    for model in (*REQUEST_MODELS, *RESPONSE_MODELS):
        assert model.__name__ in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("parameter", "bad_value"),
    [
        ("topic", "Not a slug!"),
        ("kind", "party"),
        ("format", "pigeon"),
        ("region", "@@"),
        ("from", "tomorrow"),
        ("to", "2026-02-30"),
        ("past", "maybe"),
        ("access", "Step Free"),
        ("per_page", "0"),
        ("after", "!!"),
        ("before", "zz"),
    ],
)
async def test_openapi_listing_parameters_are_read_when_documented(
    client: httpx.AsyncClient, parameter: str, bad_value: str
) -> None:
    document = await fetch_document(client)
    documented = {p["name"] for p in document["paths"][f"{API_PREFIX}/events"]["get"]["parameters"]}
    assert parameter in documented

    response = await client.get(f"{API_PREFIX}/events", params={parameter: bad_value})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {parameter}
    response_validator(document, f"{API_PREFIX}/events", 422).validate(response.json())


async def test_openapi_listing_documents_all_query_parameters(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)
    parameters = document["paths"][f"{API_PREFIX}/events"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {
        "topic",
        "kind",
        "format",
        "region",
        "from",
        "to",
        "q",
        "past",
        "access",
        "per_page",
        "limit",
        "after",
        "before",
    }
    access = next(p for p in parameters if p["name"] == "access")
    assert (access["schema"]["type"], access["explode"]) == ("array", True)


async def test_responses_validate_against_openapi_schemas_when_real(
    client: httpx.AsyncClient, make: Factory, database: Database
) -> None:
    send = await make.topic("SEND", featured=True)
    partner = await make.partner("SEN Association")
    series = await make.series("Interventions", partners=[partner])
    campaign = await make.campaign("Crisis day")
    await make.event("Webinar", slug="webinar", topics=[send], series=series, capacity=3)
    await make.event(
        "Rally",
        slug="rally",
        campaign=campaign,
        format=EventFormat.in_person,
        town="Leeds",
        postcode="LS1 4AP",
        region="yorkshire-and-the-humber",
        access=("step_free",),
        waiting_list_enabled=True,
        capacity=2,
        starts_at=dt.datetime(2026, 4, 2, 17, tzinfo=UTC),
    )
    await set_places_left(database, "rally", 0)
    await make.event("Old", starts_at=dt.datetime(2026, 1, 5, 9, tzinfo=UTC))
    document = await fetch_document(client)

    samples: list[tuple[str, str, int]] = [
        ("/events", f"{API_PREFIX}/events", 200),
        ("/events", f"{API_PREFIX}/events?per_page=1", 200),
        ("/events", f"{API_PREFIX}/events?past=true", 200),
        ("/events", f"{API_PREFIX}/events?kind=nope", 422),
        ("/events/{slug}", f"{API_PREFIX}/events/webinar", 200),
        ("/events/{slug}", f"{API_PREFIX}/events/rally", 200),
        ("/events/{slug}", f"{API_PREFIX}/events/absent", 404),
        ("/topics", f"{API_PREFIX}/topics", 200),
        ("/series/{slug}", f"{API_PREFIX}/series/interventions", 200),
        ("/series/{slug}", f"{API_PREFIX}/series/absent", 404),
        ("/campaigns/{slug}", f"{API_PREFIX}/campaigns/crisis-day", 200),
        ("/campaigns/{slug}", f"{API_PREFIX}/campaigns/crisis-day?place=LS9", 200),
        ("/campaigns/{slug}", f"{API_PREFIX}/campaigns/crisis-day?region=!", 422),
        ("/campaigns/{slug}", f"{API_PREFIX}/campaigns/absent", 404),
        ("/openapi.json", f"{API_PREFIX}/openapi.json", 200),
    ]
    for template, url, status in samples:
        response = await client.get(url)
        assert response.status_code == status, url
        body = response.json()
        response_validator(document, API_PREFIX + template, status).validate(body)
        if template != "/openapi.json":
            assert_offsets(body)

    listed = (await client.get(f"{API_PREFIX}/events?per_page=1")).json()
    assert listed["items"] and listed["next"]


async def test_openapi_schema_rejects_answer_when_joining_link_added(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Webinar", slug="webinar")
    document = await fetch_document(client)
    body = (await client.get(f"{API_PREFIX}/events/webinar")).json()
    validator = response_validator(document, f"{API_PREFIX}/events/{{slug}}", 200)
    validator.validate(body)

    with pytest.raises(ValidationError):
        validator.validate({**body, "joining_url": "https://meet.example.org/room"})


def reachable(document: dict[str, Any], node: Any, seen: set[str] | None = None) -> set[str]:
    """Every ``$ref`` target reachable from ``node``, followed through the components."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target not in seen:
            seen.add(target)
            reachable(document, resolve(document, {"$ref": target}), seen)
        for value in node.values():
            reachable(document, value, seen)
    elif isinstance(node, list):
        for value in node:
            reachable(document, value, seen)
    return seen


async def test_openapi_public_operations_never_mention_joining_link(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get(f"{API_PREFIX}/openapi.json")).text
    assert "secret-room" not in text
    document = await fetch_document(client)
    public: dict[str, bool] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            refs = reachable(document, operation)
            mentions = "joining_url" in json.dumps(
                [operation] + [resolve(document, {"$ref": ref}) for ref in refs]
            )
            public[f"{method} {path}"] = mentions
            if "security" not in operation:
                assert not mentions, f"{method} {path} can carry a joining link"
    # The organisers' operations do carry it, so the check above can see one.
    assert public[f"get {API_PREFIX}/organiser/events/{{slug}}"]


async def test_openapi_document_describes_every_route_when_built_for_the_app(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    undocumented = sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("x-undocumented")
    )
    assert undocumented == [], "add these routes to events/api/openapi.py OPERATIONS"


def test_openapi_document_marks_route_undocumented_when_operation_missing() -> None:
    async def endpoint() -> None: ...

    routes = [Mount(API_PREFIX, routes=[Route("/mystery", endpoint, name="mystery")], name="api")]
    document = openapi.document(routes, base_url="http://testserver", page_size=20)
    assert document["paths"][f"{API_PREFIX}/mystery"]["get"]["x-undocumented"] is True


def test_openapi_build_fails_when_api_not_mounted() -> None:
    with pytest.raises(LookupError, match="api"):
        openapi.document([], base_url="http://testserver", page_size=20)


# Registration (the registration room's endpoint, described here with the rest)

REGISTRATIONS = f"{API_PREFIX}/events/{{slug}}/registrations"


async def test_registration_answers_validate_against_openapi_schemas(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Small", slug="small", capacity=1, waiting_list_enabled=True)
    await make.event("Tiny", slug="tiny", capacity=1)
    document = await fetch_document(client)
    request_schema = Draft202012Validator(
        {"allOf": [openapi.ref("RegistrationRequest")], "components": document["components"]}
    )
    ann = {"name": "Ann Example", "email": "ann@example.org"}
    bob = {"name": "Bob Example", "email": "bob@example.org"}
    request_schema.validate(ann)

    samples: list[tuple[str, dict[str, str], bytes | None, int]] = [
        ("small", ann, None, 201),
        ("small", bob, None, 201),
        ("tiny", ann, None, 201),
        ("tiny", bob, None, 409),
        ("absent", ann, None, 404),
        ("small", {"name": "", "email": "not an email"}, None, 422),
        ("small", ann, b"{not json", 400),
        ("small", ann, b"name=Ann", 415),
    ]
    for slug, body, raw, status in samples:
        url = REGISTRATIONS.format(slug=slug)
        if raw is None:
            response = await client.post(url, json=body)
        else:
            media = "application/json" if raw.startswith(b"{") else "text/plain"
            response = await client.post(url, content=raw, headers={"content-type": media})
        assert response.status_code == status, (slug, body, response.text)
        response_validator(document, REGISTRATIONS, status, "post").validate(response.json())
        assert "secret-room" not in response.text


async def test_registration_accepts_every_documented_choice(
    client: httpx.AsyncClient, make: Factory
) -> None:
    await make.event("Open", slug="open")
    document = await fetch_document(client)
    properties = document["components"]["schemas"]["RegistrationRequest"]["properties"]

    def enum(name: str) -> list[str]:
        schema = properties[name]
        if "items" in schema:
            schema = schema["items"]
        options = next(s for s in schema.get("anyOf", [schema]) if "enum" in s)
        values: list[str] = options["enum"]
        return values

    roles, settings, needs = enum("role"), enum("setting"), enum("access_requirements")
    assert set(enum("consents")) >= {"privacy", "access_data"}
    for n in range(max(len(roles), len(settings))):
        body = {
            "name": f"Person {n}",
            "email": f"person{n}@example.org",
            "role": roles[n % len(roles)],
            "setting": settings[n % len(settings)],
            "access_requirements": needs,
            "access_details": "A seat near the front.",
            "consents": ["privacy", "access_data"],
        }
        response = await client.post(REGISTRATIONS.format(slug="open"), json=body)
        assert response.status_code == 201, (body, response.text)


# The document tells the truth ------------------------------------------------------------

_SAMPLE = {"slug": "x", "registration_id": "1"}


def _concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: _SAMPLE.get(m.group(1), "x"), path)


async def test_options_lists_every_method_a_path_takes(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)
    for path, operations in document["paths"].items():
        response = await client.options(_concrete(path))
        assert response.status_code == 204, path
        allowed = set(response.headers["allow"].split(", "))
        assert {m.upper() for m in operations} | {"OPTIONS"} <= allowed, path
        assert "access-control-allow-origin" not in response.headers  # no CORS granted
    page = await client.options("/privacy")
    assert set(page.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert (await client.options("/no/such/page")).status_code == 404


def _parameters(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, parameter)
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", ())
    ]


async def test_paging_limits_are_documented_and_held(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)
    paging = [(p, q) for p, q in _parameters(document) if q["name"] in {"per_page", "page"}]
    assert paging
    for _path, parameter in paging:
        assert {"minimum", "maximum"} <= set(parameter["schema"]), parameter
    listing = next(q for p, q in paging if p == "/api/v1/events" and q["name"] == "per_page")
    top = listing["schema"]["maximum"]
    assert (await client.get(f"/api/v1/events?per_page={top}")).status_code == 200
    assert (await client.get(f"/api/v1/events?per_page={top + 1}")).status_code == 422


async def test_path_ids_are_documented_within_the_database_range(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    ids = [q for _, q in _parameters(document) if q["in"] == "path" and q["name"].endswith("_id")]
    assert ids
    for parameter in ids:
        assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


async def test_empty_query_values_are_refused_where_an_enum_or_pattern_applies(
    client: httpx.AsyncClient, make: Factory
) -> None:
    document = await fetch_document(client)
    checked = 0
    for path, parameter in _parameters(document):
        if parameter["in"] != "query" or "/organiser/" in path:
            continue
        if not {"enum", "pattern", "$ref"} & set(parameter["schema"]):
            continue
        if "{slug}" in path:
            continue  # the campaign finder: covered by openapi.refuse_empty below
        response = await client.get(_concrete(path), params={parameter["name"]: ""})
        assert response.status_code == 422, (path, parameter["name"])
        assert parameter["name"] in response.json()["fields"]
        checked += 1
    assert checked >= 4
    with pytest.raises(InvalidInput):
        openapi.refuse_empty(openapi.CAMPAIGN_PARAMETERS, {"region": ""})
