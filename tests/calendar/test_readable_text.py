"""What people read in their calendar apps (issue 13 item 5): descriptions as plain text
made from the organiser's Markdown, names with quotes and commas as written, and calendars
named for what they hold. Every body is read back by two parsers."""

from __future__ import annotations

from typing import Any

import httpx
import icalendar
import pytest
import vobject  # type: ignore[import-untyped]

from events.app import create_app
from events.calendar import builders
from events.calendar.builders import Attendee
from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.registration.tokens import LinkSet
from tests.calendar.helpers import both_parsers_agree
from tests.calendar.test_builders import PAGE, STAMP, make_event
from tests.factories import TEST_SIGNER, Factory, register
from tests.registration.helpers import latest_token

# Like the demo events' descriptions (events/demo.py), with a link and a run of blank lines.
DESCRIPTION = (
    "### For\n\n"
    "Class teachers, teaching assistants and safety reps.\n\n\n\n"
    "### Covered\n\n"
    "- The employer's duty to **assess risk**\n"
    "- Individual risk assessments and positive handling plans\n\n"
    "Read [the guidance](https://neu.example.org/guidance) first.\n"
)
READABLE = (
    "For\n\n"
    "Class teachers, teaching assistants and safety reps.\n\n"
    "Covered\n\n"
    "- The employer's duty to assess risk\n"
    "- Individual risk assessments and positive handling plans\n\n"
    "Read the guidance (https://neu.example.org/guidance) first."
)


def _descriptions(body: bytes) -> list[str]:
    """Each event's DESCRIPTION as both parsers read it (checked to agree)."""
    first = [str(e["DESCRIPTION"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    second = [e.description.value for e in vobject.readOne(body.decode()).vevent_list]
    assert first == second
    return first


def _names(body: bytes) -> tuple[str, str]:
    """The calendar's NAME and X-WR-CALNAME, checked to agree between the parsers."""
    calendar = icalendar.Calendar.from_ical(body)
    parsed: Any = vobject.readOne(body.decode())
    name, wr_name = str(calendar["NAME"]), str(calendar["X-WR-CALNAME"])
    found = (parsed.contents["name"][0].value, parsed.contents["x-wr-calname"][0].value)
    assert found == (name, wr_name)
    return name, wr_name


def _readable(description: str) -> None:
    assert "#" not in description and "**" not in description
    assert "\n\n\n" not in description
    assert READABLE in description


def test_description_is_plain_text_made_from_the_markdown() -> None:
    event = make_event(summary="Know your rights.\n\n\n\nAll welcome.", description=DESCRIPTION)
    for body in (
        builders.download(event, page_url=PAGE),
        builders.feed("Union events", [(builders.vevent(event, page_url=PAGE), "Europe/London")]),
        builders.invite(
            event,
            Attendee("Sam", "sam@example.org"),
            "REQUEST",
            stamp=STAMP,
            page_url=PAGE,
            joining_url="https://events.example.org/j/personal",
        ),
    ):
        [description] = _descriptions(body)
        _readable(description)
        assert "Know your rights.\n\nAll welcome." in description
        assert description.endswith(f"Details: {PAGE}")


NAMES = [
    # (as typed, as calendar apps should show it)
    ('O\'Brien, "Jo"', "O'Brien, \u201cJo\u201d"),
    ('Sam "the rep" Smith; Branch: North', "Sam \u201cthe rep\u201d Smith; Branch: North"),
    ('"Quoted" ^caret', "\u201cQuoted\u201d \u02c6caret"),
]


@pytest.mark.parametrize(("typed", "shown"), NAMES)
def test_names_with_quotes_and_commas_read_as_written(typed: str, shown: str) -> None:
    """No RFC 6868 caret escape (Outlook shows ^' for a double quote): straight double
    quotes become curly ones; commas, semicolons and colons are quoted by icalendar."""
    body = builders.invite(
        make_event(organiser_name=typed),
        Attendee(typed, "sam@example.org"),
        "REQUEST",
        stamp=STAMP,
        page_url=PAGE,
        joining_url=None,
    )
    assert b"^" not in body
    [vevent] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert vevent["ORGANIZER"].params["CN"] == shown
    assert vevent["ATTENDEE"].params["CN"] == shown
    parsed: Any = vobject.readOne(body.decode()).vevent
    assert parsed.organizer.params["CN"] == [shown]
    assert parsed.attendee.params["CN"] == [shown]
    assert str(parsed.attendee.value) == "mailto:sam@example.org"
    both_parsers_agree(body)


def test_calendar_titles() -> None:
    assert builders.calendar_title("Union events") == "Union events"
    assert builders.calendar_title("Union events", "SEND") == "Union events: SEND"
    assert builders.private_calendar_title("Union events") == "My union events"
    assert builders.private_calendar_title("NEU events") == "My NEU events"


async def test_every_feed_and_download_is_named_for_what_it_holds(
    client: httpx.AsyncClient, make: Factory
) -> None:
    topic = await make.topic("SEND")
    series = await make.series("Small group interventions")
    campaign = await make.campaign("Workload, pay and time")
    event = await make.event("Risk assessments", topics=(topic,), series=series, campaign=campaign)
    await register(make, event, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    private = LinkSet.from_manage(TEST_SIGNER, manage).calendar
    for path, expected in [
        ("/calendar.ics", "Union events"),
        (f"/topics/{topic.slug}/calendar.ics", "Union events: SEND"),
        (f"/series/{series.slug}/calendar.ics", "Union events: Small group interventions"),
        (f"/campaigns/{campaign.slug}/calendar.ics", "Union events: Workload pay and time"),
        (f"/events/{event.slug}.ics", "Union events: Risk assessments"),
        (f"/c/{private}.ics", "My union events"),
    ]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert _names(response.content) == (expected, expected), path
        both_parsers_agree(response.content)


async def test_the_site_name_comes_from_settings(
    settings: Settings, clock: FrozenClock, database: Database, make: Factory
) -> None:
    named = settings.model_copy(update={"site_name": "NEU events"})
    app = create_app(named, clock=clock, database=database)
    topic = await make.topic("SEND")
    event = await make.event("Risk assessments", topics=(topic,), description=DESCRIPTION)
    await register(make, event, "jo@example.org")
    manage = await latest_token(make.database, "jo@example.org")
    private = LinkSet.from_manage(TEST_SIGNER, manage).calendar
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path, expected in [
            ("/calendar.ics", "NEU events"),
            (f"/topics/{topic.slug}/calendar.ics", "NEU events: SEND"),
            (f"/events/{event.slug}.ics", "NEU events: Risk assessments"),
            (f"/c/{private}.ics", "My NEU events"),
        ]:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert _names(response.content) == (expected, expected), path
            for description in _descriptions(response.content):
                _readable(description)
