"""Organiser errors, under the tree drawn in ``events/errors.py``.

DomainError
├── NotFound
│   └── EventNotManaged      404  another organiser's event looks exactly like a missing one
├── Conflict
│   └── AttendanceRefused    409  marking attended: only confirmed people, once the event starts
│       ├── EventNotStarted       event_not_started
│       └── NotConfirmed          not_confirmed (names who, and why)
└── Forbidden
    ├── LoginRequired        (pages redirect to the login page; the API answers 401)
    ├── LoginRefused         wrong email or password, said the same way for both
    └── LoginLocked          too many failed attempts: try again later
"""

from __future__ import annotations

import datetime as dt

from events.errors import Conflict, Forbidden, NotFound


class EventNotManaged(NotFound):
    code = "event_not_found"
    message = "We could not find that event."


class LoginRequired(Forbidden):
    status = 401
    code = "login_required"
    message = "Sign in to continue."


class LoginRefused(Forbidden):
    status = 401
    code = "login_refused"
    message = "That email address and password do not match an organiser account."


class LoginLocked(Forbidden):
    status = 429
    code = "login_locked"
    message = "Too many failed attempts. Wait a few minutes, then try again."

    def __init__(self, retry_after: dt.timedelta) -> None:
        self.retry_after = retry_after
        minutes = max(1, int(retry_after.total_seconds() + 59) // 60)
        super().__init__(
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


class AttendanceRefused(Conflict):
    code = "attendance_refused"
    message = "Attendance could not be marked."


class EventNotStarted(AttendanceRefused):
    code = "event_not_started"

    def __init__(self, starts: str) -> None:
        super().__init__(
            f"This event has not started yet: attendance can be marked from {starts}. "
            "Nothing was marked."
        )


class NotConfirmed(AttendanceRefused):
    """Someone selected has no confirmed place: on the waiting list, or cancelled."""

    code = "not_confirmed"

    def __init__(self, who: list[str]) -> None:
        shown = "; ".join(who[:5])
        more = f"; and {len(who) - 5} more" if len(who) > 5 else ""
        super().__init__(
            "Only people with a confirmed place can be marked as attended, and "
            f"{shown}{more}. Nothing was marked: give them a place first, or leave them out."
        )
