"""Why a registration is refused. Raised by service.py, rendered once by web/errors.py
(or re-rendered next to the form by registration/views.py).

    DomainError
    ├── Conflict                          409
    │   ├── RegistrationRefused
    │   │   ├── EventFull                 event_full
    │   │   ├── RegistrationNotOpen       registration_not_open
    │   │   ├── RegistrationClosed        registration_closed
    │   │   ├── EventCancelled            event_cancelled
    │   │   ├── EventNotPublished         event_not_published
    │   │   ├── EventPast                 event_past
    │   │   └── NoPlaceLeft               no_place_left (an organiser confirming someone)
    │   └── RegistrationStateConflict     (organiser actions on a registration's state)
    │       ├── NotConfirmed              not_confirmed
    │       ├── NotOnWaitingList          not_on_waiting_list
    │       └── AlreadyCancelled          already_cancelled
    ├── InvalidInput                      422
    │   └── MembershipRequired            membership_required (field membership_number)
    ├── NotFound                          404
    │   ├── RegistrationNotFound          registration_not_found (wrong, old or missing token)
    │   └── RegistrationMissing           registration_not_found (no such id in this event)
    ├── Forbidden                         403
    │   └── CsrfFailed                    csrf_failed (events/web/csrf.py)
    └── RateLimited                       429 rate_limited (events/web/ratelimit.py)
"""

from __future__ import annotations

from events.errors import Conflict, InvalidInput, NotFound


class RegistrationRefused(Conflict):
    code = "registration_refused"
    message = "You cannot register for this event."


class EventFull(RegistrationRefused):
    code = "event_full"
    message = "This event is full and has no waiting list."


class RegistrationNotOpen(RegistrationRefused):
    code = "registration_not_open"
    message = "Registration for this event has not opened yet."


class RegistrationClosed(RegistrationRefused):
    code = "registration_closed"
    message = "Registration for this event has closed."


class EventCancelled(RegistrationRefused):
    code = "event_cancelled"
    message = "This event has been cancelled, so it is not taking registrations."


class EventNotPublished(RegistrationRefused):
    code = "event_not_published"
    message = "This event is not open for registration."


class EventPast(RegistrationRefused):
    code = "event_past"
    message = "This event has already taken place."


class MembershipRequired(InvalidInput):
    code = "membership_required"
    message = "This event is for members only."

    def __init__(self) -> None:
        super().__init__(
            {"membership_number": "Enter your membership number: this event is for members only."}
        )


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = (
        "We could not find that registration. The link may be old: use the link in the "
        "most recent email we sent you."
    )


class RegistrationMissing(NotFound):
    """An organiser's lookup by id, always within one event: another event's id is as
    missing as one that never existed."""

    code = "registration_not_found"
    message = "We could not find that registration for this event."


class NoPlaceLeft(RegistrationRefused):
    code = "no_place_left"
    message = (
        "There is no place left at this event. Raise the capacity, or move someone to the "
        "waiting list first."
    )


class RegistrationStateConflict(Conflict):
    code = "registration_state"
    message = "That registration has changed: reload the page to see where it stands."


class NotConfirmed(RegistrationStateConflict):
    code = "not_confirmed"
    message = "Only someone with a confirmed place can be moved to the waiting list."


class NotOnWaitingList(RegistrationStateConflict):
    code = "not_on_waiting_list"
    message = "Only someone on the waiting list can be given a place from it."


class AlreadyCancelled(RegistrationStateConflict):
    code = "already_cancelled"
    message = "That registration is already cancelled: nothing has changed."
