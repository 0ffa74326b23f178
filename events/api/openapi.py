"""The OpenAPI 3.1 document of /api/v1, built from what is actually served.

Paths come from the routes mounted under the app's ``api`` Mount (this room's and the
registration room's), each described by the ``OPERATIONS`` entry of the same route name; a
route without one still appears, marked ``x-undocumented``, and the tests fail naming it.
``components.schemas`` comes from the pydantic models in ``schemas.py`` that also serialize
every response, so the document cannot drift from the serializer.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute, Mount, Route

from events.api import schemas
from events.catalog.models import ACCESS_PROVISIONS
from events.catalog.schemas import MAX_QUERY_LENGTH
from events.errors import InvalidInput
from events.kit.ids import MAX_ID
from events.registration.errors import RegistrationRefused

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
MOUNT_NAME = "api"
_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def ref(name: str) -> dict[str, Any]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


@functools.cache
def component_schemas() -> dict[str, Any]:
    """Every request and response model's JSON schema, named as in ``$ref``s."""
    _, top = models_json_schema(
        [(model, "validation") for model in schemas.REQUEST_MODELS]
        + [(model, "serialization") for model in schemas.RESPONSE_MODELS],
        ref_template=REF_TEMPLATE,
    )
    definitions: dict[str, Any] = top.get("$defs", {})
    for model in (schemas.EventCreate, schemas.EventChanges):  # both read by read_input
        _not_nullable(definitions[model.__name__], schemas.NOT_NULLABLE)
    return definitions


def _not_nullable(model: dict[str, Any], names: frozenset[str]) -> None:
    """A partial update's fields are optional (``X | None`` in Python), but those in
    ``names`` refuse ``null`` (``read_input``): the document must not call them nullable."""
    for name, prop in model.get("properties", {}).items():
        options = prop.get("anyOf")
        if name not in names or not options:
            continue
        kept = [o for o in options if o != {"type": "null"}]
        del prop["anyOf"]
        if len(kept) == 1:
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


_SLUG = {"type": "string", "maxLength": 120, "pattern": "^[a-z0-9][a-z0-9-]*$"}
_REGION = _query("region", _SLUG, "A region's slug, e.g. `north-west` or `wales`.")
_CURSOR = {"type": "string"}
MAX_PAGE = 999_999  # organiser listings take page numbers of up to six digits
# Path ids: a larger number names no row (404), as the ``id`` route convertor holds.
_INTEGER_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

LISTING_PARAMETERS: tuple[dict[str, Any], ...] = (
    _query("topic", _SLUG, "A topic's slug, e.g. `send`."),
    _query("kind", ref("EventKind"), "Only events of this kind."),
    _query("format", ref("EventFormat"), "Only events in this format."),
    _REGION,
    _query(
        "from",
        {"type": "string", "format": "date"},
        "Events starting on or after this day (YYYY-MM-DD, in the site's time zone).",
    ),
    _query(
        "to",
        {"type": "string", "format": "date"},
        "Events starting on or before this day (YYYY-MM-DD); not before `from`.",
    ),
    _query(
        "q",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        "Words that must each appear in the title, summary, town, venue or postcode district.",
    ),
    _query(
        "past",
        {"type": "boolean", "default": False},
        "`true` for events that have finished, latest first; otherwise upcoming, soonest first.",
    ),
    _query(
        "access",
        {"type": "array", "items": {"type": "string"}},
        "An access provision code; repeat to require several. Codes: "
        + ", ".join(f"`{code}`" for code, _ in ACCESS_PROVISIONS)
        + ".",
        style="form",
        explode=True,
    ),
    # per_page is added by document(), whose default depends on the settings.
    _query(
        "after",
        _CURSOR,
        "Opaque page cursor; follow the `next` link rather than building one.",
    ),
    _query(
        "before",
        _CURSOR,
        "Opaque page cursor; follow the `previous` link rather than building one.",
    ),
)


def constrained(parameters: Sequence[dict[str, Any]]) -> frozenset[str]:
    """Names of the query parameters documented with an enum, a pattern or an enum ``$ref``:
    an empty value cannot match those, so the API refuses it (``refuse_empty``)."""
    return frozenset(
        p["name"] for p in parameters if {"enum", "pattern", "$ref"} & set(p["schema"])
    )


def refuse_empty(parameters: Sequence[dict[str, Any]], query: Mapping[str, str]) -> None:
    """``InvalidInput`` (422 ``invalid_filter``) naming each constrained parameter sent
    empty (``?kind=``), as the document's enum or pattern says."""
    empty = {
        name: "Leave this parameter out rather than sending it empty."
        for name in sorted(constrained(parameters))
        if name in query and not query[name].strip()
    }
    if empty:
        raise InvalidInput(empty, code="invalid_filter")


CAMPAIGN_PARAMETERS: tuple[dict[str, Any], ...] = (
    _REGION,
    _query(
        "place",
        {"type": "string", "maxLength": 60},
        "A town (or part of its name), a postcode district such as `M1`, or a full postcode. "
        "When nothing matches a district, events in its wider postcode area are returned and "
        "`widened_to_area` names it.",
    ),
)


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": _json(ref("Error")), **extra}


def _refusal_codes() -> str:
    return ", ".join(f"`{cls.code}`" for cls in RegistrationRefused.__subclasses__())


# Error answers, by name; every one has the Error shape. Status codes in RESPONSE_STATUS.
RESPONSES: dict[str, Any] = {
    "BadRequest": _error("The body is not valid JSON (code `invalid_json`)."),
    "NotFound": _error("No such resource (drafts answer exactly as missing ones do)."),
    "RegistrationRefused": _error(
        "The event is not taking this registration; the code says why: " + _refusal_codes() + "."
    ),
    "TooLarge": _error("The body is too large (code `too_large`)."),
    "UnsupportedMediaType": _error(
        "The body was not sent as `application/json` (code `unsupported_media_type`)."
    ),
    "InvalidFilter": _error(
        "A parameter could not be used; `fields` names each one (code `invalid_filter`)."
    ),
    "InvalidRegistration": _error(
        "A field could not be used; `fields` names each one (code `invalid_input`, or "
        "`membership_required` for a members-only event)."
    ),
    "Unauthorized": _error(
        "No valid organiser API token in `Authorization: Bearer …` (code "
        "`api_token_required`): missing, unknown or revoked. The console's session cookie is "
        "not accepted here."
    ),
    "Conflict": _error(
        "The change clashes with the event's or registration's state; the code says why "
        "(e.g. `event_cancelled`, `already_cancelled`, `no_place_left`, `event_full`)."
    ),
    "InvalidInput": _error(
        "A field could not be used; `fields` names each one (code `invalid_input`)."
    ),
    "RateLimited": _error(
        "Too many requests in a short time (code `rate_limited`): registrations from this "
        "connection or for this email address, answers built for this connection, or write "
        "calls for this organiser.",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
}
RESPONSE_STATUS = {
    "BadRequest": 400,
    "NotFound": 404,
    "RegistrationRefused": 409,
    "TooLarge": 413,
    "UnsupportedMediaType": 415,
    "InvalidFilter": 422,
    "InvalidRegistration": 422,
    "RateLimited": 429,
    "Unauthorized": 401,
    "Conflict": 409,
    "InvalidInput": 422,
}
SECURITY_SCHEME = "organiserToken"
SECURITY_SCHEMES = {
    SECURITY_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "An organiser API token, created in the organiser console under Your "
        "account, API tokens. It acts with its organiser's permissions: events they own or "
        "that are shared with them (an admin's: every event).",
    }
}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    response: dict[str, Any]  # the JSON schema of a successful answer
    status: int = 200
    description: str = ""
    tag: str = "catalogue"
    parameters: tuple[dict[str, Any], ...] = ()
    path_parameters: dict[str, str] = field(default_factory=dict)  # name -> description
    request_body: dict[str, Any] | None = None  # the JSON schema of the body
    errors: tuple[str, ...] = ()  # names in RESPONSES
    paged: bool = False
    secured: bool = False  # needs an organiser API token
    integer_parameters: tuple[str, ...] = ()  # path parameters that are integers
    also: dict[int, str] = field(default_factory=dict)  # other successes, same shape

    def as_dict(self, path: str, *, page_size: int) -> dict[str, Any]:
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": self.path_parameters.get(name, ""),
                "schema": _INTEGER_ID if name in self.integer_parameters else {"type": "string"},
            }
            for name in _PATH_PARAM.findall(path)
        ]
        parameters.extend(self.parameters)
        if self.paged:
            parameters.append(
                _query(
                    "per_page",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": page_size},
                    "How many events per page.",
                )
            )
            parameters.append(
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 100},
                    "Another name for `per_page`, with the same maximum; if both are sent "
                    "they must be equal. The `next` and `previous` links carry `per_page`.",
                )
            )
        responses: dict[str, Any] = {
            str(self.status): {"description": self.summary, "content": _json(self.response)}
        }
        for status, description in self.also.items():
            responses[str(status)] = {"description": description, "content": _json(self.response)}
        errors = ("Unauthorized", *self.errors) if self.secured else self.errors
        # Every operation is rate limited (writes per organiser, registrations per address
        # and email, reads per address on answers that must be built).
        errors = (*errors, "RateLimited") if "RateLimited" not in errors else errors
        for name in errors:
            responses[str(RESPONSE_STATUS[name])] = {"$ref": f"#/components/responses/{name}"}
        operation: dict[str, Any] = {
            "operationId": self.operation_id,
            "summary": self.summary,
            "tags": [self.tag],
        }
        if self.description:
            operation["description"] = self.description
        if self.secured:
            operation["security"] = [{SECURITY_SCHEME: []}]
        if parameters:
            operation["parameters"] = parameters
        if self.request_body is not None:
            operation["requestBody"] = {"required": True, "content": _json(self.request_body)}
        operation["responses"] = responses
        return operation


# One entry per route name mounted under /api/v1 (this room's routes.py, and the
# registration room's api.py).
OPERATIONS: dict[str, Operation] = {
    "events": Operation(
        operation_id="listEvents",
        summary="A page of published events",
        description="The public listing with the HTML listing's filters, paged by cursor. "
        "Follow `next` and `previous` (absolute URLs that keep the filters) to move between "
        "pages; an event added while paging neither repeats nor shifts rows.",
        response=ref("EventList"),
        parameters=LISTING_PARAMETERS,
        errors=("InvalidFilter",),
        paged=True,
    ),
    "event": Operation(
        operation_id="getEvent",
        summary="One published or cancelled event",
        response=ref("EventDetail"),
        path_parameters={"slug": "The event's slug."},
        errors=("NotFound",),
    ),
    "registrations": Operation(
        operation_id="createRegistration",
        summary="Register one person for an event",
        description="The same rules as the registration form: a full event with a waiting "
        "list answers `waitlisted` with the place in the queue; the same email registering "
        "again gets its existing place back (and a fresh confirmation email), never a second "
        "one. The answer never says anything else about who is registered.",
        response=ref("RegistrationCreated"),
        status=201,
        tag="registration",
        path_parameters={"slug": "The event's slug."},
        request_body=ref("RegistrationRequest"),
        errors=(
            "BadRequest",
            "NotFound",
            "RegistrationRefused",
            "TooLarge",
            "UnsupportedMediaType",
            "InvalidRegistration",
            "RateLimited",
        ),
    ),
    "topics": Operation(
        operation_id="listTopics",
        summary="Every topic, with its number of upcoming events",
        response={"type": "array", "items": ref("TopicItem")},
    ),
    "series": Operation(
        operation_id="getSeries",
        summary="A series, its partners and its public sessions in order",
        response=ref("SeriesDetail"),
        path_parameters={"slug": "The series' slug."},
        errors=("NotFound",),
    ),
    "campaign": Operation(
        operation_id="getCampaign",
        summary="A campaign and its local events, found by region and place",
        response=ref("CampaignDetail"),
        parameters=CAMPAIGN_PARAMETERS,
        path_parameters={"slug": "The campaign's slug."},
        errors=("NotFound", "InvalidFilter"),
    ),
    "organiser_create": Operation(
        operation_id="createEvent",
        summary="Create an event (organiser)",
        description="A draft owned by the token's organiser, or published at once with "
        "`publish: true`. The same rules as the console: an end after the start, capacity "
        "not negative, registration opening before closing, an https joining link, topics, "
        "series, campaign, region and access provisions that exist. Recorded in the audit "
        "log as done through the API.",
        response=ref("ManagedEvent"),
        status=201,
        tag="organiser",
        request_body=ref("EventCreate"),
        secured=True,
        errors=("BadRequest", "TooLarge", "UnsupportedMediaType", "InvalidInput"),
    ),
    "organiser_event": Operation(
        operation_id="getManagedEvent",
        summary="One event the organiser manages, drafts and private fields included",
        response=ref("ManagedEvent"),
        tag="organiser",
        path_parameters={"slug": "The event's slug."},
        secured=True,
        errors=("NotFound",),
    ),
    "organiser_update": Operation(
        operation_id="updateEvent",
        summary="Change an event (organiser)",
        description="Only the fields sent change. A change to anything the calendar invite "
        "shows (title, summary, description, time, place, format, joining link, organiser or "
        "web address) raises the event's iCal sequence and emails every confirmed registrant "
        "an update; a new time or place also emails the people waiting (without an invite). "
        "Other changes send nothing. A higher capacity gives places to the people waiting, "
        "in order. A cancelled event cannot be "
        "changed (409 `event_cancelled`).",
        response=ref("ManagedEvent"),
        tag="organiser",
        path_parameters={"slug": "The event's slug."},
        request_body=ref("EventChanges"),
        secured=True,
        errors=(
            "BadRequest",
            "NotFound",
            "Conflict",
            "TooLarge",
            "UnsupportedMediaType",
            "InvalidInput",
        ),
    ),
    "organiser_registrations": Operation(
        operation_id="listRegistrations",
        summary="A page of an event's registrations (organiser)",
        response=ref("ManagedRegistrationList"),
        tag="organiser",
        path_parameters={"slug": "The event's slug."},
        parameters=(
            _query(
                "status",
                {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]},
                "Only registrations with this status.",
            ),
            _query(
                "attended",
                {"type": "string", "enum": ["yes", "no"]},
                "Only those marked as attended (or not).",
            ),
            _query(
                "q", {"type": "string", "maxLength": 200}, "Words in the name or email address."
            ),
            _query(
                "sort",
                {"type": "string", "enum": ["date", "-date", "name", "-name"], "default": "date"},
                "Registration date or name; `-` for the reverse order.",
            ),
            _query(
                "page",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                "Page number; follow `next` and `previous`.",
            ),
            _query(
                "per_page",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                "How many registrations per page.",
            ),
        ),
        secured=True,
        errors=("NotFound", "InvalidFilter"),
    ),
    "organiser_register": Operation(
        operation_id="addRegistration",
        summary="Register someone for an event (organiser)",
        description="The registration window and the members-only rule do not apply; "
        "capacity does. An email already registered gets its existing registration back "
        "(200), never a second place. The person gets the usual email with their links.",
        response=ref("ManagedRegistration"),
        status=201,
        also={200: "The email was already registered: that registration, unchanged."},
        tag="organiser",
        path_parameters={"slug": "The event's slug."},
        request_body=ref("OrganiserRegistrationRequest"),
        secured=True,
        errors=(
            "BadRequest",
            "NotFound",
            "Conflict",
            "TooLarge",
            "UnsupportedMediaType",
            "InvalidInput",
        ),
    ),
    "organiser_cancel": Operation(
        operation_id="cancelRegistration",
        summary="Cancel a registration on the person's behalf (organiser)",
        description="As if they had cancelled: the cancellation email, and a freed place "
        "given to the first person waiting. Cancelling twice is 409 `already_cancelled`.",
        response=ref("ManagedRegistration"),
        tag="organiser",
        path_parameters={
            "slug": "The event's slug.",
            "registration_id": "The registration's id (from the list).",
        },
        integer_parameters=("registration_id",),
        secured=True,
        errors=("NotFound", "Conflict"),
    ),
    "organiser_attendance": Operation(
        operation_id="markAttendance",
        summary="Mark registrations as attended, or not (organiser)",
        description="Ids that are not this event's are left alone, exactly like ids that do "
        "not exist. Marking attended is refused, and nothing is marked, before the event "
        "starts (409 `event_not_started`) and when anyone listed has no confirmed place "
        "(409 `not_confirmed`, naming them: on the waiting list, or cancelled). Marking not "
        "attended is always allowed; cancelled registrations are left alone.",
        response=ref("AttendanceResult"),
        tag="organiser",
        path_parameters={"slug": "The event's slug."},
        request_body=ref("AttendanceChange"),
        secured=True,
        errors=(
            "BadRequest",
            "NotFound",
            "Conflict",
            "TooLarge",
            "UnsupportedMediaType",
            "InvalidInput",
        ),
    ),
    "openapi": Operation(
        operation_id="getOpenApiDocument",
        summary="This OpenAPI document",
        response={"type": "object"},
        tag="meta",
    ),
}


def _undocumented(name: str) -> Operation:
    # A route nobody described yet still appears (and the tests fail naming it), rather than
    # the whole document answering 500.
    return Operation(
        operation_id=f"undocumented_{name}",
        summary="Not described yet",
        response={},
        tag="undocumented",
    )


DESCRIPTION = """\
Public data about the union's events, topics, series and campaigns, and registration for
an event; and, for organisers with an API token (`Authorization: Bearer …`), creating and
changing their events, their registrations and attendance (the `organiser` operations),
with the console's rules and permissions.

Times are ISO 8601 in each event's own zone (`timezone`), with its UTC offset. Answers are
cached per server process for a short time (a second by default), so `places_left` may be
that stale. Errors are JSON with `status`, `code` and `message` (and `fields` when a
parameter or field could not be used). Joining links for online events are private to
confirmed attendees and the event's organisers: only the organiser operations carry them.
"""


def _api_mount(routes: Sequence[BaseRoute]) -> Mount:
    for route in routes:
        if isinstance(route, Mount) and route.name == MOUNT_NAME:
            return route
    raise LookupError(f"no Mount named {MOUNT_NAME!r} among the app's routes")


def document(routes: Sequence[BaseRoute], *, base_url: str, page_size: int) -> dict[str, Any]:
    """The OpenAPI document for the API mounted among ``routes`` (the app's)."""
    mount = _api_mount(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in mount.routes:
        if not isinstance(route, Route) or route.methods is None:
            raise TypeError(f"cannot describe {route!r}: only plain routes are documented")
        operation = OPERATIONS.get(route.name) or _undocumented(route.name)
        path = mount.path + _PATH_PARAM.sub(r"{\1}", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            described = operation.as_dict(path, page_size=page_size)
            if route.name not in OPERATIONS:
                described["x-undocumented"] = True
            paths.setdefault(path, {})[method.lower()] = described
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Events API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "responses": RESPONSES,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document_json(routes: Sequence[BaseRoute], *, base_url: str, page_size: int) -> bytes:
    return json.dumps(document(routes, base_url=base_url, page_size=page_size)).encode()
