"""One list of editable event fields (``catalog.fields.EditInput``'s specs): create,
update, the change record, duplicate, the write API's bodies and output, and the console
form are all derived from it, so a field added there reaches every door."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from events import lifecycle
from events.api import schemas
from events.audit.service import SYSTEM
from events.catalog.fields import (
    EDITABLE,
    NEVER_EMPTY,
    REQUIRED_ON_CREATE,
    EventInput,
    FieldKind,
    event_values,
)
from events.catalog.lifecycle import event_with_details
from events.catalog.models import Event, EventFormat, EventKind
from events.db import Database, unit_of_work
from events.errors import InvalidInput
from events.organiser import event_forms
from tests.factories import Factory

# Where the organisers' view of an event (the write API's answer) shows each field.
OUTPUT_NAMES = {
    "venue_name": "venue",
    "venue_address": "venue",
    "town": "venue",
    "postcode": "venue",
    "region": "venue",
    "waiting_list_enabled": "waiting_list",
    "access": "access_provisions",
}


def test_every_editable_field_is_in_the_write_api_bodies() -> None:
    assert set(schemas.EventChanges.model_fields) == set(EDITABLE)
    assert set(schemas.EventCreate.model_fields) == set(EDITABLE) | {"publish"}
    required = {n for n, f in schemas.EventCreate.model_fields.items() if f.is_required()}
    assert required == set(REQUIRED_ON_CREATE)
    assert not any(f.is_required() for f in schemas.EventChanges.model_fields.values())


def test_every_editable_field_is_in_the_organisers_answer() -> None:
    output = set(schemas.ManagedEvent.model_fields)
    missing = {n for n in EDITABLE if OUTPUT_NAMES.get(n, n) not in output}
    assert missing == set()


def test_only_nullable_fields_may_be_cleared_with_null_through_the_write_api() -> None:
    for name, spec in EDITABLE.items():
        assert (name in NEVER_EMPTY) is (not spec.nullable), name
        if spec.nullable:
            assert getattr(schemas.read_input(schemas.EventChanges, {name: None}), name) is None
        else:
            with pytest.raises(InvalidInput) as refused:
                schemas.read_input(schemas.EventChanges, {name: None})
            assert set(refused.value.fields) == {name}


def test_every_editable_field_has_a_control_on_the_console_form() -> None:
    controls = {*event_forms.TEXT_FIELDS, *event_forms.FLAG_FIELDS, *event_forms.LIST_FIELDS}
    for name, spec in EDITABLE.items():
        wanted = (
            {f"{spec.form}_date", f"{spec.form}_time"}
            if spec.kind == FieldKind.moment
            else {spec.form}
        )
        assert wanted <= controls, name
    assert set(event_forms.new_event_values()) == controls


async def test_duplicate_and_the_form_carry_every_editable_field(
    make: Factory, database: Database
) -> None:
    """An event with every field away from its default: the copy (apart from its new
    address) and the form's values (read back through the parser) keep every one."""
    topic = await make.topic("Every field")
    series = await make.series("Every series")
    campaign = await make.campaign("Every campaign")
    day = (make.clock.now() + dt.timedelta(days=20)).date()
    dublin = ZoneInfo("Europe/Dublin")
    starts = dt.datetime.combine(day, dt.time(0), tzinfo=dublin).astimezone(dt.UTC)
    ends = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=dublin)
    full = EventInput(
        title="Everything set",
        kind=EventKind.training,
        format=EventFormat.hybrid,
        starts_at=starts,
        ends_at=ends.astimezone(dt.UTC),
        timezone="Europe/Dublin",
        all_day=True,
        summary="Summary",
        description="Description",
        venue_name="Hall",
        venue_address="1 Road",
        town="Leeds",
        postcode="LS1 4AP",
        region="london",
        joining_url="https://meet.example.org/every",
        capacity=9,
        waiting_list_enabled=True,
        registration_opens_at=starts - dt.timedelta(days=10),
        registration_closes_at=starts - dt.timedelta(days=1),
        members_only=True,
        access=("bsl",),
        access_notes="Notes",
        organiser_name="Someone",
        organiser_email="someone@example.org",
        topics=(topic.slug,),
        series=series.slug,
        campaign=campaign.slug,
        slug="everything-set",
        reminder_offsets=(120,),
    )
    defaults = EventInput(
        title="x",
        kind=EventKind.webinar,
        format=EventFormat.online,
        starts_at=starts,
        ends_at=starts,
    )
    unset = {
        f.name
        for f in dataclasses.fields(EventInput)
        if f.name in EDITABLE and getattr(full, f.name) == getattr(defaults, f.name)
    }
    assert unset <= {"starts_at"}, "give every field a value away from its default"
    async with unit_of_work(database.writer) as session:
        event = await lifecycle.create_event(session, make.clock, full)
        copy = await lifecycle.duplicate_event(session, make.clock, event=event, actor=SYSTEM)
        source = event_values(await event_with_details(session, event.id))
        copied = event_values(await event_with_details(session, copy.id))
        form = event_forms.event_values(await event_with_details(session, event.id))
    assert source["slug"] == "everything-set" and copied["slug"] != source["slug"]
    assert {k: v for k, v in copied.items() if k != "slug"} == {
        k: v for k, v in source.items() if k != "slug"
    }

    class Form(dict[str, object]):
        def getlist(self, key: str) -> list[object]:
            value = self.get(key)
            return list(value) if isinstance(value, list) else []

    parsed = event_forms.parse_event_form(Form(form))
    assert parsed.errors == {} and parsed.data is not None
    assert {n: v for n, v in dataclasses.asdict(parsed.data).items() if n in EDITABLE} == {
        n: v if not isinstance(v, list) else tuple(v) for n, v in source.items()
    } | {"topics": (topic.slug,), "access": ("bsl",), "reminder_offsets": (120,)}
    assert isinstance(event, Event)
