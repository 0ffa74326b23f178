"""Parsing the console's forms: the event form, the duplicate form and the catalogue forms.

Parsing only: strings in, typed values (``catalog.service.EventInput``) or messages keyed by
the form's field names out, with what was typed kept for the page to show again. Local
dates and times are read in the event's own zone and become aware UTC datetimes. The rules
themselves live in ``catalog.service`` (``validate_event_input``), applied here too so the
form shows every problem at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from events.catalog.models import (
    DEFAULT_REMINDER_OFFSETS,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    Series,
    Topic,
)
from events.catalog.service import EventInput, validate_event_input

TIMEZONES = ("Europe/London", "Europe/Dublin", "Europe/Brussels", "UTC")
# Minutes before the start, with the words the form shows.
REMINDER_CHOICES: tuple[tuple[int, str], ...] = (
    (7 * 24 * 60, "1 week before"),
    (3 * 24 * 60, "3 days before"),
    (24 * 60, "1 day before"),
    (2 * 60, "2 hours before"),
    (60, "1 hour before"),
    (15, "15 minutes before"),
)
MAX_REMINDER = 60 * 24 * 60  # 60 days

TEXT_FIELDS = (
    "title",
    "slug",
    "summary",
    "description",
    "kind",
    "format",
    "timezone",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "venue_name",
    "venue_address",
    "town",
    "postcode",
    "region",
    "joining_url",
    "capacity",
    "opens_date",
    "opens_time",
    "closes_date",
    "closes_time",
    "access_notes",
    "organiser_name",
    "organiser_email",
    "series",
    "campaign",
)
FLAG_FIELDS = ("all_day", "waiting_list_enabled", "members_only")
LIST_FIELDS = ("access", "topics", "reminders")
LIMITS = {
    "title": 200,
    "slug": 100,
    "venue_name": 200,
    "town": 120,
    "postcode": 10,
    "joining_url": 1000,
    "organiser_name": 200,
    "organiser_email": 320,
}

# Where a rule's message is shown: the service names values, the form names controls.
FORM_FIELD = {
    "starts_at": "start_date",
    "ends_at": "end_date",
    "registration_opens_at": "opens_date",
    "registration_closes_at": "closes_date",
}


class FormData(Protocol):
    def get(self, key: str, /) -> Any: ...
    def getlist(self, key: str, /) -> list[Any]: ...


def form_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """A service's messages keyed by the form's controls."""
    return {FORM_FIELD.get(name, name): message for name, message in errors.items()}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    # Form text never needs control characters (NUL breaks PostgreSQL); keep line breaks.
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\r\t").strip()


@dataclass
class EventForm:
    """What the organiser typed (``values``), what is wrong with it (``errors``), and, when
    nothing is, the event it describes (``data``, groupings still to be resolved by slug)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    data: EventInput | None = None
    topics: tuple[str, ...] = ()
    series: str | None = None
    campaign: str | None = None

    def with_groupings(
        self, topics: Sequence[Topic], series: Series | None, campaign: Campaign | None
    ) -> EventInput:
        assert self.data is not None
        return dataclasses.replace(
            self.data, topics=tuple(topics), series=series, campaign=campaign
        )


def _date(raw: str, name: str, errors: dict[str, str], label: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"Enter the {label} as a date, for example 2026-03-10."
        return None


def _time(raw: str, name: str, errors: dict[str, str], label: str) -> dt.time | None:
    if not raw:
        return None
    try:
        parsed = dt.time.fromisoformat(raw)
    except ValueError:
        errors[name] = f"Enter the {label} as a time, for example 18:30."
        return None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def _moment(
    day: dt.date | None, at: dt.time | None, zone: ZoneInfo, name: str, errors: dict[str, str]
) -> dt.datetime | None:
    """A local date and time in ``zone`` as an aware UTC datetime; a time that the clocks
    skip (spring forward) is refused rather than silently moved."""
    if day is None or at is None:
        return None
    local = dt.datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        errors[name] = (
            "That time does not exist on that day (the clocks go forward). Choose another."
        )
        return None
    return utc


def parse_event_form(form: FormData, *, owner_id: int | None = None) -> EventForm:
    values: dict[str, Any] = {name: _text(form, name) for name in TEXT_FIELDS}
    values.update({name: bool(form.get(name)) for name in FLAG_FIELDS})
    values.update(
        {name: [v for v in form.getlist(name) if isinstance(v, str) and v] for name in LIST_FIELDS}
    )
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = f"Use {limit} characters or fewer."

    try:
        kind = EventKind(values["kind"])
    except ValueError:
        errors["kind"] = "Choose what kind of event it is."
        kind = EventKind.webinar
    try:
        event_format = EventFormat(values["format"])
    except ValueError:
        errors["format"] = "Choose whether it is online, in person or both."
        event_format = EventFormat.online

    zone_name = values["timezone"] or "Europe/London"
    try:
        zone = ZoneInfo(zone_name)
    except (ValueError, KeyError):
        errors["timezone"] = "Choose a time zone such as Europe/London."
        zone = ZoneInfo("Europe/London")

    all_day = values["all_day"]
    start_day = _date(values["start_date"], "start_date", errors, "start date")
    end_day = _date(values["end_date"], "end_date", errors, "end date") or start_day
    start_time = _time(values["start_time"], "start_time", errors, "start time")
    end_time = _time(values["end_time"], "end_time", errors, "end time")
    if not values["start_date"]:
        errors["start_date"] = "Enter the date the event starts."
    if all_day:
        start_time = dt.time(0)
        end_time = dt.time(0)
        end_day = end_day + dt.timedelta(days=1) if end_day else None
    else:
        if not values["start_time"]:
            errors.setdefault("start_time", "Enter the time the event starts.")
        if not values["end_time"]:
            errors.setdefault("end_time", "Enter the time the event ends.")
    starts_at = _moment(start_day, start_time, zone, "start_time", errors)
    ends_at = _moment(end_day, end_time, zone, "end_time", errors)

    opens_at = closes_at = None
    for prefix, label in (("opens", "registration opening"), ("closes", "registration closing")):
        day = _date(values[f"{prefix}_date"], f"{prefix}_date", errors, f"{label} date")
        at = _time(values[f"{prefix}_time"], f"{prefix}_time", errors, f"{label} time")
        if day is not None and at is None and not values[f"{prefix}_time"]:
            at = dt.time(0) if prefix == "opens" else dt.time(23, 59)
        if day is None and values[f"{prefix}_time"] and f"{prefix}_date" not in errors:
            errors[f"{prefix}_date"] = f"Enter the {label} date too, or clear the time."
        moment = _moment(day, at, zone, f"{prefix}_time", errors)
        if prefix == "opens":
            opens_at = moment
        else:
            closes_at = moment

    capacity: int | None = None
    if values["capacity"]:
        try:
            capacity = int(values["capacity"])
        except ValueError:
            errors["capacity"] = (
                "Enter the number of places as a whole number, or leave it blank for no limit."
            )

    reminders: list[int] = []
    for raw in values["reminders"]:
        try:
            minutes = int(raw)
            if not 1 <= minutes <= MAX_REMINDER:
                raise ValueError
        except ValueError:
            errors["reminders"] = "Choose reminder times from the list."
            continue
        if minutes not in reminders:
            reminders.append(minutes)

    slug = values["slug"].lower() or None
    result = EventForm(
        values=values,
        errors=errors,
        topics=tuple(dict.fromkeys(values["topics"])),
        series=values["series"] or None,
        campaign=values["campaign"] or None,
    )
    if starts_at is None or ends_at is None:
        errors.setdefault("start_date", "Enter when the event starts.")
        return result
    data = EventInput(
        title=values["title"],
        kind=kind,
        format=event_format,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=zone_name,
        summary=values["summary"],
        description=values["description"],
        all_day=all_day,
        venue_name=values["venue_name"],
        venue_address=values["venue_address"],
        town=values["town"],
        postcode=values["postcode"],
        region=values["region"] or None,
        joining_url=values["joining_url"],
        capacity=capacity,
        waiting_list_enabled=values["waiting_list_enabled"],
        registration_opens_at=opens_at,
        registration_closes_at=closes_at,
        members_only=values["members_only"],
        access=tuple(dict.fromkeys(values["access"])),
        access_notes=values["access_notes"],
        organiser_name=values["organiser_name"],
        organiser_email=values["organiser_email"],
        slug=slug,
        owner_id=owner_id,
        reminder_offsets=tuple(sorted(reminders, reverse=True)),
    )
    for name, message in form_errors(validate_event_input(data)).items():
        errors.setdefault(name, message)
    if not errors:
        result.data = data
    return result


def _local(value: dt.datetime | None, zone: str) -> tuple[str, str]:
    if value is None:
        return "", ""
    local = value.astimezone(ZoneInfo(zone))
    return local.date().isoformat(), local.strftime("%H:%M")


def event_values(event: Event) -> dict[str, Any]:
    """The form's values for an existing event (its relationships loaded)."""
    start_date, start_time = _local(event.starts_at, event.timezone)
    end_date, end_time = _local(event.ends_at, event.timezone)
    if event.all_day:
        last = (event.ends_at - dt.timedelta(seconds=1)).astimezone(ZoneInfo(event.timezone))
        end_date, start_time, end_time = last.date().isoformat(), "", ""
    opens_date, opens_time = _local(event.registration_opens_at, event.timezone)
    closes_date, closes_time = _local(event.registration_closes_at, event.timezone)
    return {
        "title": event.title,
        "slug": event.slug,
        "summary": event.summary,
        "description": event.description,
        "kind": event.kind.value,
        "format": event.format.value,
        "timezone": event.timezone,
        "start_date": start_date,
        "start_time": start_time,
        "end_date": end_date,
        "end_time": end_time,
        "all_day": event.all_day,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "town": event.town,
        "postcode": event.postcode,
        "region": event.region.slug if event.region else "",
        "joining_url": event.joining_url,
        "capacity": "" if event.capacity is None else str(event.capacity),
        "waiting_list_enabled": event.waiting_list_enabled,
        "opens_date": opens_date,
        "opens_time": opens_time,
        "closes_date": closes_date,
        "closes_time": closes_time,
        "members_only": event.members_only,
        "access": [p.code for p in event.access_provisions],
        "access_notes": event.access_notes,
        "organiser_name": event.organiser_name,
        "organiser_email": event.organiser_email,
        "topics": [t.slug for t in event.topics],
        "series": event.series.slug if event.series else "",
        "campaign": event.campaign.slug if event.campaign else "",
        "reminders": [str(m) for m in event.reminder_offsets],
    }


def new_event_values(*, organiser_name: str = "", organiser_email: str = "") -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update(dict.fromkeys(FLAG_FIELDS, False))
    values.update({name: [] for name in LIST_FIELDS})
    values.update(
        kind=EventKind.webinar.value,
        format=EventFormat.online.value,
        timezone="Europe/London",
        organiser_name=organiser_name,
        organiser_email=organiser_email,
        reminders=[str(m) for m in DEFAULT_REMINDER_OFFSETS],
    )
    return values


def reminder_choices(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The offered reminder times, plus any odd one the event already has."""
    choices = {str(m): label for m, label in REMINDER_CHOICES}
    for raw in values.get("reminders", []):
        if raw not in choices and raw.isdigit():
            minutes = int(raw)
            choices[raw] = f"{minutes} minutes before"
    return sorted(choices.items(), key=lambda item: -int(item[0]))


# Duplicate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateForm:
    values: dict[str, str]
    errors: dict[str, str]
    title: str = ""
    starts_on: dt.date | None = None


def parse_duplicate_form(form: FormData) -> DuplicateForm:
    values = {"title": _text(form, "title"), "starts_on": _text(form, "starts_on")}
    errors: dict[str, str] = {}
    starts_on = _date(values["starts_on"], "starts_on", errors, "new start date")
    if len(values["title"]) > 200:
        errors["title"] = "Use 200 characters or fewer."
    return DuplicateForm(values, errors, values["title"], starts_on)


# Catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueField:
    name: str
    label: str
    type: str = "text"  # text, textarea, checkbox, number, date, url, partners
    hint: str = ""
    required: bool = False


CATALOGUE_FIELDS: dict[str, tuple[CatalogueField, ...]] = {
    "topics": (
        CatalogueField("name", "Name", required=True),
        CatalogueField("summary", "Summary", "textarea", "One or two sentences for lists."),
        CatalogueField("description", "Description", "textarea", "Markdown is allowed."),
        CatalogueField("advice", "Advice", "textarea", "Shown on the topic page."),
        CatalogueField("featured", "Feature this topic on the home page", "checkbox"),
        CatalogueField("sort_order", "Sort order", "number", "Lower numbers come first."),
    ),
    "series": (
        CatalogueField("title", "Title", required=True),
        CatalogueField("summary", "Summary", "textarea"),
        CatalogueField("description", "Description", "textarea", "Markdown is allowed."),
        CatalogueField("partners", "Partner organisations", "partners"),
    ),
    "campaigns": (
        CatalogueField("title", "Title", required=True),
        CatalogueField("starts_on", "First day", "date", "For example 2026-03-10.", True),
        CatalogueField("ends_on", "Last day", "date", "Leave blank for a one-day campaign."),
        CatalogueField("summary", "Summary", "textarea"),
        CatalogueField("description", "Description", "textarea", "Markdown is allowed."),
    ),
    "partners": (
        CatalogueField("name", "Name", required=True),
        CatalogueField("url", "Website", "url", "Starting https://"),
        CatalogueField("description", "Description", "textarea"),
    ),
}
CATALOGUE_NOUNS = {
    "topics": "topic",
    "series": "series",
    "campaigns": "campaign",
    "partners": "partner organisation",
}


@dataclass(frozen=True)
class CatalogueForm:
    values: dict[str, Any]
    errors: dict[str, str]
    data: dict[str, Any]  # keyword values for the service, when there are no errors


def parse_catalogue_form(kind: str, form: FormData) -> CatalogueForm:
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in CATALOGUE_FIELDS[kind]:
        if spec.type == "checkbox":
            values[spec.name] = data[spec.name] = bool(form.get(spec.name))
            continue
        if spec.type == "partners":
            chosen = [v for v in form.getlist(spec.name) if isinstance(v, str) and v]
            values[spec.name] = data[spec.name] = list(dict.fromkeys(chosen))
            continue
        raw = _text(form, spec.name)
        values[spec.name] = raw
        if spec.required and not raw:
            errors[spec.name] = f"Enter the {spec.label.lower()}."
        elif spec.type == "number":
            try:
                data[spec.name] = int(raw) if raw else 0
            except ValueError:
                errors[spec.name] = "Enter a whole number."
        elif spec.type == "date":
            data[spec.name] = _date(raw, spec.name, errors, spec.label.lower())
        else:
            if len(raw) > (500 if spec.type == "url" else 200) and spec.type != "textarea":
                errors[spec.name] = "That is too long."
            data[spec.name] = raw
    return CatalogueForm(values, errors, data if not errors else {})


def catalogue_values(kind: str, row: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in CATALOGUE_FIELDS[kind]:
        value = getattr(row, spec.name)
        if spec.type == "partners":
            values[spec.name] = [p.slug for p in value]
        elif spec.type == "checkbox":
            values[spec.name] = bool(value)
        elif isinstance(value, dt.date):
            values[spec.name] = value.isoformat()
        else:
            values[spec.name] = "" if value is None else str(value)
    return values
