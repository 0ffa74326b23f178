"""Readable text in registration mail (issue 13 item 5): the event's description (the
organiser's Markdown) as plain text in the text part, formatted and sanitised in the HTML
part, and the attached invite readable too. Sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from tests.calendar.test_readable_text import DESCRIPTION, READABLE
from tests.factories import Factory, register
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import calendar_part, html_of, mail_worker, text_of, to, vevent_of
from tests.mail.test_compose import an_event, an_outgoing, build, parts, reparsed

HOSTILE = "\n\n<script>alert(1)</script> [click](javascript:alert(2))\n"


async def test_confirmation_shows_the_description_as_text_and_as_html(
    database: Database, clock: FrozenClock, settings: Settings, make: Factory, smtp: SmtpServer
) -> None:
    event = await make.event(
        "Risk assessments",
        description=DESCRIPTION + HOSTILE,
        organiser_name='O\'Brien, "Jo"',
        organiser_email="jo@union.example.org",
    )
    await register(make, event, "sam@example.org")

    await mail_worker(database, clock, settings, smtp.url).drain()

    [message] = to(smtp.recorder.messages(), "sam@example.org")
    text, html = text_of(message).replace("\r\n", "\n"), html_of(message)
    assert "ABOUT THE EVENT\n\n" + READABLE in text
    assert "#" not in text and "**" not in text and "\n\n\n" not in text
    assert "<script>alert(1)</script> [click](javascript:alert(2))" in text  # plain text
    assert '<h2 style="font-size:1.25em;margin:1.25em 0 0.5em;">About the event</h2>' in html
    assert "<h3>For</h3>" in html and "<h3>Covered</h3>" in html and "###" not in html
    assert "<li>The employer's duty to <strong>assess risk</strong></li>" in html
    assert (
        '<a href="https://neu.example.org/guidance" rel="noopener nofollow noreferrer">'
        "the guidance</a>"
    ) in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html

    _calendar, vevent = vevent_of(message)
    description = str(vevent["DESCRIPTION"])
    assert READABLE in description and "#" not in description and "\n\n\n" not in description
    assert vevent["ORGANIZER"].params["CN"] == "O'Brien, \u201cJo\u201d"
    part = calendar_part(message)
    assert part is not None and "^" not in part.get_content()


def test_a_promoted_place_shows_it_too() -> None:
    message = reparsed(build(an_outgoing("promoted"), an_event(description=DESCRIPTION)))
    found = parts(message)
    assert "ABOUT THE EVENT\n\n" + READABLE in found["text/plain"].replace("\r\n", "\n")
    assert "<h3>For</h3>" in found["text/html"]


@pytest.mark.parametrize("description", [None, "", "  \n\n"])
def test_no_description_no_section(description: str | None) -> None:
    """Nothing to say, no heading (an event object built without one has None)."""
    for kind in ("confirmed", "promoted"):
        found = parts(reparsed(build(an_outgoing(kind), an_event(description=description))))
        assert "ABOUT THE EVENT" not in found["text/plain"]
        assert "About the event" not in found["text/html"]
