"""What a member can do about an event right now, and the short line pages show about its
places: one rule for pages, the API and registration alike. Pure: no session, no I/O."""

from __future__ import annotations

import datetime as dt
import enum

from events.catalog.models import Event, EventStatus


class RegistrationState(enum.StrEnum):
    """What a member can do about an event right now; one rule for pages and API alike."""

    open = "open"  # places available (or unlimited)
    waiting_list = "waiting_list"  # full, but the waiting list takes names
    full = "full"  # full, and no waiting list
    not_open_yet = "not_open_yet"
    closed = "closed"
    past = "past"
    cancelled = "cancelled"
    draft = "draft"


def registration_state(event: Event, now: dt.datetime) -> RegistrationState:
    if event.status == EventStatus.cancelled:
        return RegistrationState.cancelled
    if event.status == EventStatus.draft:
        return RegistrationState.draft
    if event.ends_at <= now:
        return RegistrationState.past
    if event.registration_opens_at and now < event.registration_opens_at:
        return RegistrationState.not_open_yet
    closes = event.registration_closes_at or event.starts_at
    if now >= closes:
        return RegistrationState.closed
    if event.places_left is not None and event.places_left <= 0:
        return (
            RegistrationState.waiting_list if event.waiting_list_enabled else RegistrationState.full
        )
    return RegistrationState.open


def availability_text(event: Event, now: dt.datetime) -> str:
    """A short public line about places: '12 places left', 'Waiting list open', 'Full'."""
    state = registration_state(event, now)
    if state == RegistrationState.open:
        if event.places_left is None:
            return "Places available"
        return "1 place left" if event.places_left == 1 else f"{event.places_left} places left"
    return {
        RegistrationState.waiting_list: "Full: waiting list open",
        RegistrationState.full: "Full",
        RegistrationState.not_open_yet: "Registration not open yet",
        RegistrationState.closed: "Registration closed",
        RegistrationState.past: "This event has finished",
        RegistrationState.cancelled: "Cancelled",
        RegistrationState.draft: "Not published",
    }[state]
