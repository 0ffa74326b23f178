"""ORGANIZER and ATTENDEE are valid ``mailto:`` URIs (RFC 6068) for international and odd
addresses (issue 13 item 12): the mailbox name percent-encoded UTF-8, the domain IDNA
A-labels; both parsers read them back."""

from __future__ import annotations

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]

from events.calendar import builders
from events.calendar.builders import Attendee
from events.kit.addresses import mailto
from tests.calendar.helpers import both_parsers_agree, unfolded_lines
from tests.calendar.test_builders import PAGE, STAMP, make_event


@pytest.mark.parametrize(
    ("address", "uri"),
    [
        ("sam@example.org", "mailto:sam@example.org"),
        ("jöran@exämple.com", "mailto:j%C3%B6ran@xn--exmple-cua.com"),
        ("sam@straße.de", "mailto:sam@xn--strae-oqa.de"),
        ("a&b?c#d%e/f@example.org", "mailto:a%26b%3Fc%23d%25e%2Ff@example.org"),
        ("o'neil+x@example.org", "mailto:o'neil+x@example.org"),
    ],
)
def test_mailto_uris(address: str, uri: str) -> None:
    assert mailto(address) == uri


def test_invite_names_international_people_with_valid_mailto_uris() -> None:
    event = make_event(organiser_email="événements@exämple.org", organiser_name="Événements")
    body = builders.invite(
        event,
        Attendee("Jöran", "jöran@exämple.com"),
        "REQUEST",
        stamp=STAMP,
        page_url=PAGE,
        joining_url=None,
    )
    both_parsers_agree(body)
    [vevent] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(vevent["ORGANIZER"]) == "mailto:%C3%A9v%C3%A9nements@xn--exmple-cua.org"
    assert str(vevent["ATTENDEE"]) == "mailto:j%C3%B6ran@xn--exmple-cua.com"
    [second] = vobject.readOne(body.decode()).vevent_list
    assert second.organizer.value == "mailto:%C3%A9v%C3%A9nements@xn--exmple-cua.org"
    assert second.attendee.value == "mailto:j%C3%B6ran@xn--exmple-cua.com"
    # Names (CN) may be UTF-8; the URIs themselves are ASCII.
    people = [line for line in unfolded_lines(body) if line.startswith(("ORGANIZER", "ATTENDEE"))]
    assert len(people) == 2
    assert all(line.rpartition(":mailto:")[2].isascii() for line in people)
