"""Parsing the console's forms: the event form, the duplicate form and the catalogue forms.

Parsing only: strings in, typed values (``catalog.fields.EventInput``) or messages keyed by
the form's field names out, with what was typed kept for the page to show again. Local
dates and times are read in the event's own zone and become aware UTC datetimes. The event
form's controls come from the one list of editable fields (``catalog.fields.EDITABLE``).
The rules themselves live in ``catalog.fields`` (``validate_event_input``), applied here
too so the form shows every problem at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from events.catalog.fields import EDITABLE, EventInput, FieldKind, validate_event_input
from events.catalog.fields import event_values as catalog_values
from events.catalog.models import DEFAULT_REMINDER_OFFSETS, Event, EventFormat, EventKind
from events.kit.ids import parse_number

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


def _controls() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The form's controls, from the one list of editable fields: a moment is a date and
    a time; flags are checkboxes; lists are multiple choices; the rest are text."""
    text: list[str] = []
    flags: list[str] = []
    lists: list[str] = []
    for spec in EDITABLE.values():
        if spec.kind == FieldKind.moment:
            text += [f"{spec.form}_date", f"{spec.form}_time"]
        elif spec.kind == FieldKind.flag:
            flags.append(spec.form)
        elif spec.kind in (FieldKind.refs, FieldKind.codes, FieldKind.minutes):
            lists.append(spec.form)
        else:
            text.append(spec.form)
    return tuple(text), tuple(flags), tuple(lists)


TEXT_FIELDS, FLAG_FIELDS, LIST_FIELDS = _controls()
LIMITS = {
    spec.form: spec.max_length
    for spec in EDITABLE.values()
    if spec.max_length and spec.kind in (FieldKind.text, FieldKind.slug)
}

# Where a rule's message is shown: the service names values, the form names controls.
FORM_FIELD = {
    name: f"{spec.form}_date" if spec.kind == FieldKind.moment else spec.form
    for name, spec in EDITABLE.items()
    if spec.form != name or spec.kind == FieldKind.moment
}
CHOICE_MESSAGES = {
    "kind": "Choose what kind of event it is.",
    "format": "Choose whether it is online, in person or both.",
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
    nothing is, the event it describes (``data``: plain values, groupings by slug)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    data: EventInput | None = None


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

    choices: dict[str, Any] = {}
    for name, spec in EDITABLE.items():
        if spec.kind == FieldKind.choice and spec.choices is not None:
            options = list(spec.choices)
            try:
                choices[name] = spec.choices(values[spec.form])
            except ValueError:
                errors[spec.form] = CHOICE_MESSAGES.get(name, "Choose from the list.")
                choices[name] = options[0]

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

    result = EventForm(values=values, errors=errors)
    if starts_at is None or ends_at is None:
        errors.setdefault("start_date", "Enter when the event starts.")
        return result
    moments = {"start": starts_at, "end": ends_at, "opens": opens_at, "closes": closes_at}
    fields: dict[str, Any] = {}
    for name, spec in EDITABLE.items():
        control: Any = values.get(spec.form)
        if spec.kind == FieldKind.moment:
            fields[name] = moments[spec.form]
        elif spec.kind == FieldKind.choice:
            fields[name] = choices[name]
        elif spec.kind == FieldKind.number:
            fields[name] = capacity
        elif spec.kind == FieldKind.minutes:
            fields[name] = tuple(sorted(reminders, reverse=True))
        elif spec.kind in (FieldKind.refs, FieldKind.codes):
            fields[name] = tuple(dict.fromkeys(control))
        elif spec.kind == FieldKind.slug:
            fields[name] = control.lower() or None
        elif spec.kind == FieldKind.ref:
            fields[name] = control or None
        else:
            fields[name] = control
    fields["timezone"] = zone_name
    data = EventInput(**fields, owner_id=owner_id)
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
    values: dict[str, Any] = {}
    for name, value in catalog_values(event).items():
        spec = EDITABLE[name]
        if spec.kind == FieldKind.moment:
            day, at = _local(value, event.timezone)
            values[f"{spec.form}_date"], values[f"{spec.form}_time"] = day, at
        elif spec.kind == FieldKind.choice:
            values[spec.form] = value.value
        elif spec.kind in (FieldKind.ref, FieldKind.number):
            values[spec.form] = "" if value is None else str(value)
        elif spec.kind == FieldKind.minutes:
            values[spec.form] = [str(m) for m in event.reminder_offsets]
        elif spec.kind == FieldKind.refs:
            values[spec.form] = [row.slug for row in getattr(event, spec.attribute or name)]
        else:
            values[spec.form] = value
    if event.all_day:
        last = (event.ends_at - dt.timedelta(seconds=1)).astimezone(ZoneInfo(event.timezone))
        values["end_date"], values["start_time"], values["end_time"] = (
            last.date().isoformat(),
            "",
            "",
        )
    return values


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
        minutes = parse_number(raw)
        if raw not in choices and minutes is not None:
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
