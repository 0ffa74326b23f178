"""The JSON shapes of the public API, and the one way catalogue rows become them.

These pydantic models are both the serializer and the source of the OpenAPI document's
``components.schemas`` (see ``openapi.py``), so the document cannot drift from what is sent.
Every output model forbids extra keys: an event's private ``joining_url`` has no field here
and could not be added by accident without the schema (and its tests) saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from events.catalog.fields import EDITABLE, NEVER_EMPTY, REQUIRED_ON_CREATE, FieldKind, FieldSpec
from events.catalog.models import (
    AccessProvision,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Partner,
    Region,
    Series,
    Topic,
)
from events.catalog.presentation import RegistrationState, registration_state
from events.errors import InvalidInput
from events.kit.ids import MAX_ID
from events.registration import schemas as registration_schemas
from events.registration.models import Registration, RegistrationStatus


def _isoformat(value: dt.datetime) -> str:
    # pydantic writes a zero offset as "Z"; the API promises the zone's offset, "+00:00".
    return value.isoformat()


# An instant shown in the event's own zone, with its UTC offset: "2026-03-30T16:00:00+01:00".
LocalDateTime = Annotated[
    dt.datetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# An absolute http(s) address on this site (or, for partners, theirs).
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]


class Output(BaseModel):
    """Base of every response shape: immutable, no unknown keys, every key always sent."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,
        use_attribute_docstrings=True,  # a field's docstring is its description in the document
    )


class RegionRef(Output):
    slug: str
    name: str


class TopicRef(Output):
    slug: str
    name: str


class SeriesRef(Output):
    slug: str
    title: str


class CampaignRef(Output):
    slug: str
    title: str


class AccessProvisionRef(Output):
    code: str
    name: str


class Venue(Output):
    """Where an in-person or hybrid event happens."""

    name: str
    address: str
    town: str
    postcode: str
    region: RegionRef | None


class EventItem(Output):
    """An event as listed. Times are in the event's own zone (`timezone`)."""

    slug: str
    title: str
    summary: str
    kind: EventKind
    format: EventFormat
    starts_at: LocalDateTime
    """The start, in the event's zone with its UTC offset, e.g. 2026-03-30T16:00:00+01:00."""
    ends_at: LocalDateTime
    """The end, in the event's zone with its UTC offset."""
    timezone: str
    """The event's IANA time zone, e.g. Europe/London."""
    venue: Venue | None
    """Null for online events without a place."""
    topics: list[TopicRef]
    series: SeriesRef | None
    campaign: CampaignRef | None
    capacity: int | None
    """Confirmed places in all; null for unlimited."""
    places_left: int | None
    """Confirmed places still free; null for unlimited. May be as stale as the cache's
    time to live (a second by default)."""
    waiting_list: bool
    """Whether a full event takes names on a waiting list."""
    registration_open: bool
    """Whether someone can register (or join the waiting list) now."""
    registration_state: RegistrationState
    """What a member can do about this event now."""
    members_only: bool
    """Registration needs a membership number."""
    status: EventStatus
    access_provisions: list[AccessProvisionRef]
    url: Url
    """The event's public page."""
    ics_url: Url
    """The event as an iCalendar file."""


class EventDetail(EventItem):
    """One event, with its description."""

    description: str
    """Markdown source."""


class EventList(Output):
    """One page of the listing."""

    items: list[EventItem]
    total: int
    """How many events match the filters, on all pages."""
    next: Url | None
    """The next page (an absolute URL keeping the filters); null on the last page."""
    previous: Url | None
    """The previous page; null on the first page."""


class TopicItem(Output):
    slug: str
    name: str
    summary: str
    featured: bool
    upcoming_events: int
    """How many published events on this topic have not yet finished."""
    url: Url
    """The topic's public page."""


class PartnerItem(Output):
    """A partner organisation that co-runs a series."""

    slug: str
    name: str
    url: str
    """The partner's own website ("" when none is known)."""
    description: str


class SeriesDetail(Output):
    """A series, its partner organisations and its public sessions in order."""

    slug: str
    title: str
    summary: str
    description: str
    """Markdown source."""
    url: Url
    partners: list[PartnerItem]
    sessions: list[EventItem]
    """Every public session, past ones included, in order."""


class CampaignDetail(Output):
    """A campaign and its public local events, narrowed by `region` and `place`."""

    slug: str
    title: str
    summary: str
    description: str
    """Markdown source."""
    starts_on: dt.date
    ends_on: dt.date
    url: Url
    total_in_campaign: int
    """How many public events the campaign has, whatever the filters."""
    widened_to_area: str | None
    """The postcode area (e.g. "M") searched when nothing matched the district given in
    `place`; null otherwise."""
    events: list[EventItem]
    """The matching events, soonest first."""


class Error(BaseModel):
    """Every error: HTTP status, stable machine-readable code, a message for people, and
    (422 only) a message per input field."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    status: int
    code: str
    """Stable and machine-readable, e.g. `event_not_found`, `invalid_filter`."""
    message: str
    """Written for people; may change."""
    fields: dict[str, str] = Field(default_factory=dict)
    """A message per parameter that could not be used (422 only)."""


class RegistrationCreated(Output):
    """A registration accepted: a confirmed place, or a place on the waiting list."""

    status: Literal["confirmed", "waitlisted"]
    position: int | None
    """Place on the waiting list (1 is next in line); null when confirmed."""


def _one_of(options: Iterable[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(options)})


Role = Annotated[str, _one_of(registration_schemas.ROLES)]
Setting = Annotated[str, _one_of(registration_schemas.SETTINGS)]
AccessNeed = Annotated[str, _one_of(registration_schemas.ACCESS_NEEDS)]
Consent = Annotated[str, _one_of(registration_schemas.CONSENTS)]


# Documentation only: registration/schemas.py (the parser the HTML form uses too) reads the
# body and is the authority; tests/api/test_openapi.py posts every documented choice to it.
class RegistrationRequest(BaseModel):
    """A registration for one event, sent as `application/json`. Unknown keys are ignored."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    name: Annotated[str, Field(min_length=1, max_length=registration_schemas.NAME_MAX)]
    email: Annotated[
        str,
        WithJsonSchema(
            {"type": "string", "format": "idn-email", "maxLength": registration_schemas.EMAIL_MAX}
        ),
    ]
    """Case and surrounding spaces do not matter; registering twice returns the same place.
    International addresses are accepted (UTF-8 before the `@`; a domain such as
    `exämple.com`, which is the same address as `xn--exmple-cua.com`)."""
    membership_number: str | None = None
    """Required for members-only events: 5 to 10 digits, sometimes after up to 3 letters."""
    role: Role | None = None
    setting: Setting | None = None
    access_requirements: list[AccessNeed] = Field(default_factory=list)
    """What the member needs to take part; seen only by the event's organisers."""
    access_details: Annotated[str | None, Field(max_length=registration_schemas.DETAILS_MAX)] = None
    """Required when `access_requirements` contains `other`."""
    consents: list[Consent] = Field(default_factory=lambda: ["privacy"])
    """Must include `privacy`, and `access_data` when access needs are given."""


# The organiser write API --------------------------------------------------------------
# Requests are parsed by these models (unlike RegistrationRequest above): unknown keys are
# refused, so a misspelt field is a 422 naming it rather than a change silently not made.

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
MAX_REMINDER_MINUTES = 60 * 24 * 60  # 60 days, as in the console
ReminderOffset = Annotated[int, Field(ge=1, le=MAX_REMINDER_MINUTES)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _body_type(spec: FieldSpec) -> Any:
    """The JSON type of one editable field (see ``catalog.fields``)."""
    limits: dict[str, int] = {}
    if spec.max_length:
        limits["max_length"] = spec.max_length
    if spec.min_length:
        limits["min_length"] = spec.min_length
    kind = spec.kind
    if kind == FieldKind.text:
        return Annotated[str, Field(**limits)]  # type: ignore[call-overload]
    if kind == FieldKind.choice:
        return spec.choices
    if kind == FieldKind.moment:
        return AwareDatetime
    if kind == FieldKind.flag:
        return bool
    if kind == FieldKind.number:
        return Annotated[int, Field(ge=0)]
    if kind in (FieldKind.slug, FieldKind.ref):
        return Slug
    if kind == FieldKind.refs:
        return list[Slug]
    if kind == FieldKind.codes:
        return list[Annotated[str, Field(**limits)]]
    return list[ReminderOffset]


def _body_field(spec: FieldSpec, *, required: bool = False) -> Any:
    annotation = _body_type(spec)
    info = Field(description=spec.doc) if spec.doc else Field()
    if required:
        return (annotation, info)
    return (annotation | None, Field(default=None, description=spec.doc or None))


# The write API's bodies, from the one list of editable fields.
EventChanges: type[Input] = create_model(
    "EventChanges",
    __base__=Input,
    __doc__="""The fields of an event to change (`PATCH`): only the keys sent change; `null`
    clears a field that may be empty (capacity, region, series, campaign, registration
    times). Names as in `EventCreate`.""",
    **{name: _body_field(spec) for name, spec in EDITABLE.items()},
)
EventCreate: type[Input] = create_model(
    "EventCreate",
    __base__=EventChanges,
    __doc__="A new event, a draft unless `publish` is true. Owned by the token's organiser.",
    **{name: _body_field(EDITABLE[name], required=True) for name in REQUIRED_ON_CREATE},
    publish=(
        bool,
        Field(
            default=False,
            description="Publish at once (otherwise a draft, seen only in the console and "
            "this API).",
        ),
    ),
)


class AttendanceChange(Input):
    """Mark registrations of the event as attended (or not)."""

    registration_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=1000)
    ]
    """Ids of this event's registrations, each with a confirmed place to mark attended;
    ids of other events are left alone."""
    attended: bool = True


OrganiserStatus = Literal["auto", "confirmed", "waitlisted"]


class OrganiserRegistrationRequest(RegistrationRequest):
    """Someone registered by an organiser. The registration window and the members-only
    rule do not apply; capacity does. The person gets the usual email with their links."""

    status: OrganiserStatus = "auto"
    """`auto`: a place if one is left, else the waiting list if the event has one;
    `confirmed`: a place or 409 `no_place_left`; `waitlisted`: the waiting list."""


class ManagedEvent(EventDetail):
    """An event as its organisers see it: the public fields and the private ones."""

    id: int
    all_day: bool
    """Shown as a whole day (or days) rather than between two times."""
    joining_url: str
    """The online room: private to the event's organisers and confirmed attendees."""
    ical_sequence: int
    """Goes up whenever anything the calendar invite shows changes (title, summary,
    description, time, place, format, joining link, organiser or web address)."""
    registration_opens_at: LocalDateTime | None
    registration_closes_at: LocalDateTime | None
    access_notes: str
    organiser_name: str
    organiser_email: str
    reminder_offsets: list[int]
    """Minutes before the start at which registrants are reminded."""
    created_at: LocalDateTime
    updated_at: LocalDateTime


class ManagedRegistration(Output):
    """One registration, as the event's organisers see it (access requirements are
    special category data: keep them to the people who book interpreters or captions)."""

    id: int
    name: str
    email: str
    status: Literal["confirmed", "waitlisted", "cancelled"]
    waiting_list_number: int | None
    """Order on the waiting list (lower is earlier); null unless waitlisted."""
    membership_number: str
    role: str
    setting: str
    access_requirements: list[str]
    access_details: str
    attended: bool
    created_at: LocalDateTime
    cancelled_at: LocalDateTime | None


class ManagedRegistrationList(Output):
    """One page of an event's registrations, oldest first."""

    items: list[ManagedRegistration]
    total: int
    """How many match the filters, on all pages."""
    page: int
    pages: int
    next: Url | None
    previous: Url | None


class AttendanceResult(Output):
    changed: int
    """How many registrations changed (already marked ones do not count)."""


TopicList = TypeAdapter(list[TopicItem])


def to_json(model: BaseModel) -> bytes:
    """The model as JSON bytes (no intermediate str, no re-validation)."""
    return model.__pydantic_serializer__.to_json(model)


# Every named shape, for the OpenAPI document's components.schemas: requests as they are
# read, responses as they are written.
REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    RegistrationRequest,
    EventCreate,
    EventChanges,
    OrganiserRegistrationRequest,
    AttendanceChange,
)
RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    EventList,
    EventItem,
    EventDetail,
    TopicItem,
    SeriesDetail,
    CampaignDetail,
    RegistrationCreated,
    ManagedEvent,
    ManagedRegistration,
    ManagedRegistrationList,
    AttendanceResult,
    Error,
)


# Serializing catalogue rows. No rules here beyond naming: registration state comes from the
# catalogue service, so pages and API answer alike.


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def _region(region: Region | None) -> RegionRef | None:
    return RegionRef(slug=region.slug, name=region.name) if region else None


def _venue(event: Event) -> Venue | None:
    if not (
        event.venue_name or event.venue_address or event.town or event.postcode or event.region
    ):
        return None
    return Venue(
        name=event.venue_name,
        address=event.venue_address,
        town=event.town,
        postcode=event.postcode,
        region=_region(event.region),
    )


def _topic(topic: Topic) -> TopicRef:
    return TopicRef(slug=topic.slug, name=topic.name)


def _provision(provision: AccessProvision) -> AccessProvisionRef:
    return AccessProvisionRef(code=provision.code, name=provision.name)


def _series(series: Series | None) -> SeriesRef | None:
    return SeriesRef(slug=series.slug, title=series.title) if series else None


def _campaign(campaign: Campaign | None) -> CampaignRef | None:
    return CampaignRef(slug=campaign.slug, title=campaign.title) if campaign else None


def _event_fields(event: Event, now: dt.datetime, base_url: str) -> dict[str, Any]:
    state = registration_state(event, now)
    page = f"{base_url}/events/{event.slug}"
    return {
        "slug": event.slug,
        "title": event.title,
        "summary": event.summary,
        "kind": event.kind,
        "format": event.format,
        "starts_at": _local(event.starts_at, event.timezone),
        "ends_at": _local(event.ends_at, event.timezone),
        "timezone": event.timezone,
        "venue": _venue(event),
        "topics": [_topic(topic) for topic in event.topics],
        "series": _series(event.series),
        "campaign": _campaign(event.campaign),
        "capacity": event.capacity,
        "places_left": event.places_left,
        "waiting_list": event.waiting_list_enabled,
        "registration_open": state in (RegistrationState.open, RegistrationState.waiting_list),
        "registration_state": state,
        "members_only": event.members_only,
        "status": event.status,
        "access_provisions": [_provision(p) for p in event.access_provisions],
        "url": page,
        "ics_url": f"{page}.ics",
    }


def event_item(event: Event, *, now: dt.datetime, base_url: str) -> EventItem:
    return EventItem(**_event_fields(event, now, base_url))


def event_detail(event: Event, *, now: dt.datetime, base_url: str) -> EventDetail:
    return EventDetail(**_event_fields(event, now, base_url), description=event.description)


def event_items(events: Sequence[Event], *, now: dt.datetime, base_url: str) -> list[EventItem]:
    return [event_item(event, now=now, base_url=base_url) for event in events]


def topic_items(
    topics: Sequence[Topic], counts: Mapping[int, int], *, base_url: str
) -> list[TopicItem]:
    return [
        TopicItem(
            slug=topic.slug,
            name=topic.name,
            summary=topic.summary,
            featured=topic.featured,
            upcoming_events=counts.get(topic.id, 0),
            url=f"{base_url}/topics/{topic.slug}",
        )
        for topic in topics
    ]


def _partner(partner: Partner) -> PartnerItem:
    return PartnerItem(
        slug=partner.slug, name=partner.name, url=partner.url, description=partner.description
    )


def series_detail(
    series: Series, sessions: Sequence[Event], *, now: dt.datetime, base_url: str
) -> SeriesDetail:
    return SeriesDetail(
        slug=series.slug,
        title=series.title,
        summary=series.summary,
        description=series.description,
        url=f"{base_url}/series/{series.slug}",
        partners=[_partner(p) for p in series.partners],
        sessions=event_items(sessions, now=now, base_url=base_url),
    )


def campaign_detail(
    campaign: Campaign,
    events: Sequence[Event],
    *,
    total_in_campaign: int,
    widened_to_area: str | None,
    now: dt.datetime,
    base_url: str,
) -> CampaignDetail:
    return CampaignDetail(
        slug=campaign.slug,
        title=campaign.title,
        summary=campaign.summary,
        description=campaign.description,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        url=f"{base_url}/campaigns/{campaign.slug}",
        total_in_campaign=total_in_campaign,
        widened_to_area=widened_to_area,
        events=event_items(events, now=now, base_url=base_url),
    )


def managed_event(event: Event, *, now: dt.datetime, base_url: str) -> ManagedEvent:
    """An event with its relationships loaded (``catalog.lifecycle.event_with_details``)."""
    zone = event.timezone
    return ManagedEvent(
        **_event_fields(event, now, base_url),
        description=event.description,
        id=event.id,
        all_day=event.all_day,
        joining_url=event.joining_url,
        ical_sequence=event.ical_sequence,
        registration_opens_at=_maybe_local(event.registration_opens_at, zone),
        registration_closes_at=_maybe_local(event.registration_closes_at, zone),
        access_notes=event.access_notes,
        organiser_name=event.organiser_name,
        organiser_email=event.organiser_email,
        reminder_offsets=list(event.reminder_offsets),
        created_at=_local(event.created_at, zone),
        updated_at=_local(event.updated_at, zone),
    )


def _maybe_local(moment: dt.datetime | None, zone: str) -> dt.datetime | None:
    return _local(moment, zone) if moment is not None else None


def managed_registration(registration: Registration, zone: str) -> ManagedRegistration:
    return ManagedRegistration(
        id=registration.id,
        name=registration.name,
        email=registration.email,
        status=registration.status.value,
        waiting_list_number=registration.waiting_list_number
        if registration.status == RegistrationStatus.waitlisted
        else None,
        membership_number=registration.membership_number,
        role=registration.role,
        setting=registration.setting,
        access_requirements=list(registration.access_requirements),
        access_details=registration.access_details,
        attended=registration.attended,
        created_at=_local(registration.created_at, zone),
        cancelled_at=_maybe_local(registration.cancelled_at, zone),
    )


# Reading the write API's bodies --------------------------------------------------------

_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "timezone_aware": "Give the time with its UTC offset, e.g. 2026-03-30T16:00:00+01:00.",
    "string_pattern_mismatch": "Use lower-case letters, numbers and hyphens only.",
}
# Fields that always have a value: null cannot clear them.
_REQUIRED = NEVER_EMPTY
NOT_NULLABLE = _REQUIRED  # documented as such by api/openapi.py
InputModel = TypeVar("InputModel", bound=BaseModel)


def read_input(model: type[InputModel], payload: object) -> InputModel:
    """``payload`` (parsed JSON) as ``model``, or ``InvalidInput`` with a message per field."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "Send a JSON object."})
    try:
        parsed = model.model_validate(payload)
    except ValidationError as invalid:
        fields: dict[str, str] = {}
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(name, _MESSAGES.get(error["type"], error["msg"]))
        raise InvalidInput(fields) from None
    nulls = {
        name: "This field cannot be empty (null)."
        for name in parsed.model_fields_set & _REQUIRED
        if getattr(parsed, name) is None
    }
    if nulls:
        raise InvalidInput(nulls)
    return parsed
