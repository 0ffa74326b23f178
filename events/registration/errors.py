"""Why a registration is refused. Raised by service.py, rendered once by web/errors.py
(or re-rendered next to the form by registration/views.py).

    DomainError
    ├── Conflict                          409
    │   └── RegistrationRefused
    │       ├── EventFull                 event_full
    │       ├── RegistrationNotOpen       registration_not_open
    │       ├── RegistrationClosed        registration_closed
    │       ├── EventCancelled            event_cancelled
    │       ├── EventNotPublished         event_not_published
    │       └── EventPast                 event_past
    ├── InvalidInput                      422
    │   └── MembershipRequired            membership_required (field membership_number)
    ├── NotFound                          404
    │   └── RegistrationNotFound          registration_not_found (wrong, old or missing token)
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
