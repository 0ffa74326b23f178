"""The calendar part of registration emails, built by ``events.calendar.builders``.

Pure, like ``compose``:

- a confirmed or promoted place carries ``METHOD:REQUEST`` (the registrant is the ATTENDEE);
- an event update to a confirmed place carries ``METHOD:REQUEST`` again: same UID, the
  SEQUENCE the change raised (``payload["sequence"]``), a new DTSTAMP, so calendar apps move
  the entry;
- a place the member cancelled carries ``METHOD:CANCEL`` with a higher SEQUENCE, and so does
  a cancelled event for a confirmed place (``STATUS:CANCELLED``), so calendar apps remove it;
- waiting-list places (and the notice that their event moved), broadcasts and reminders
  carry none (nothing to put in a calendar, or nothing that changed).

SEQUENCE: the one the message was queued with (``payload["sequence"]``), which the
registration room keeps above every invite queued before to that address about that event
(a re-registration's REQUEST goes above the CANCEL of the place before it; the UID is the
event's, so the calendar entry is the same one). Rows queued without one fall back to the
event's own sequence (one more for a place's CANCEL).

The ORGANIZER is a real address that is not the recipient's (Gmail shows no buttons on an
invite "from" its own attendee): the event's organiser, else the sender address.
"""

from __future__ import annotations

from dataclasses import replace
from email.utils import parseaddr

from events.calendar.builders import Attendee, EventView, invite
from events.catalog.models import Event
from events.mail.compose import CONFIRMED_KINDS, CalendarPart, Outgoing, holds_place, links
from events.registration.models import Registration, RegistrationStatus


def organizer_address(event: Event, recipient: str, mail_from: str) -> str:
    own = event.organiser_email.strip()
    if own and own.lower() != recipient.strip().lower():
        return own
    return parseaddr(mail_from)[1]


def _sequence(outgoing: Outgoing, fallback: int) -> int:
    value = outgoing.payload.get("sequence")
    return value if isinstance(value, int) and value >= 0 else fallback


def registration_invite(
    outgoing: Outgoing,
    event: Event,
    registration: Registration | None,
    base_url: str,
    mail_from: str,
) -> CalendarPart | None:
    """The ``InviteBuilder`` (registration.messages) the worker uses: wired in events/wiring.py."""
    still_confirmed = registration is None or registration.status == RegistrationStatus.confirmed
    if outgoing.kind in CONFIRMED_KINDS:
        method, sequence = "REQUEST", _sequence(outgoing, event.ical_sequence)
    elif outgoing.kind == "cancelled":
        method, sequence = "CANCEL", _sequence(outgoing, event.ical_sequence + 1)
    elif outgoing.kind == "event_updated" and holds_place(outgoing) and still_confirmed:
        method, sequence = "REQUEST", _sequence(outgoing, event.ical_sequence)
    elif outgoing.kind == "event_cancelled" and holds_place(outgoing):
        # cancel_event raised the sequence; never below the event's own.
        method, sequence = (
            "CANCEL",
            max(_sequence(outgoing, event.ical_sequence), event.ical_sequence),
        )
    else:
        return None
    found = links(outgoing, event, base_url)
    name = registration.name if registration is not None else str(outgoing.payload.get("name", ""))
    view = replace(
        EventView.from_event(event),
        organiser_email=organizer_address(event, outgoing.recipient, mail_from),
        cancelled=method == "CANCEL" or event.status == "cancelled",
    )
    ics = invite(
        view,
        Attendee(name=name, email=outgoing.recipient),
        "REQUEST" if method == "REQUEST" else "CANCEL",
        stamp=outgoing.created_at,
        page_url=found.event_url,
        # Only for a place still confirmed; ``links`` already leaves it out for in-person
        # events and the builder for cancelled ones (issue 13 item 7).
        joining_url=found.join_url if still_confirmed else None,
        sequence=sequence,
    )
    return CalendarPart(method=method, ics=ics)
