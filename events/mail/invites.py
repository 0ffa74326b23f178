"""The calendar part of registration emails, built by ``events.calendar.builders``.

Pure, like ``compose``: a confirmed or promoted place carries ``METHOD:REQUEST`` (the
registrant is the ATTENDEE, the event's organiser the ORGANIZER); a place the member
cancelled carries ``METHOD:CANCEL`` with a higher SEQUENCE, so calendar apps remove it;
a waiting-list email carries none (there is no place to put in a calendar yet).
"""

from __future__ import annotations

from events.calendar.builders import Attendee, EventView, invite
from events.catalog.models import Event
from events.mail.compose import CONFIRMED_KINDS, CalendarPart, Outgoing, links
from events.registration.models import Registration


def registration_invite(
    outgoing: Outgoing, event: Event, registration: Registration | None, base_url: str
) -> CalendarPart | None:
    """The ``worker.InviteBuilder`` used by default."""
    if outgoing.kind in CONFIRMED_KINDS:
        method, sequence = "REQUEST", None
    elif outgoing.kind == "cancelled":
        method, sequence = "CANCEL", event.ical_sequence + 1
    else:
        return None
    found = links(outgoing, event, base_url)
    name = registration.name if registration is not None else str(outgoing.payload.get("name", ""))
    ics = invite(
        EventView.from_event(event),
        Attendee(name=name, email=outgoing.recipient),
        "REQUEST" if method == "REQUEST" else "CANCEL",
        stamp=outgoing.created_at,
        page_url=found.event_url,
        joining_url=found.join_url,
        manage_url=found.manage_url or found.event_url,
        sequence=sequence,
    )
    return CalendarPart(method=method, ics=ics)
