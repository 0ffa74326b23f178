"""The audit log in plain English for the console's history page: what happened, who did
it, and each change as "label: before → after", never the stored codes (``event.updated``,
``waitlisted``), Python's ``None``/``True``/``False`` or the calendar's internal sequence
number. Pure: no session, no request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from events.audit.models import ActorKind, AuditEntry
from events.kit.formatting import local_date, local_time

ACTIONS = {
    "event.created": "Event created",
    "event.updated": "Details changed",
    "event.published": "Published",
    "event.unpublished": "Taken back to draft",
    "event.cancelled": "Event cancelled",
    "event.duplicated": "Copied to a new event",
    "event.shared": "Shared with an organiser",
    "event.unshared": "No longer shared with an organiser",
    "registration.created": "Registered",
    "registration.resent": "Asked for the confirmation again",
    "registration.confirmed": "Given a place by an organiser",
    "registration.promoted": "Given a place from the waiting list",
    "registration.moved_to_waiting_list": "Moved to the waiting list",
    "registration.cancelled": "Registration cancelled",
    "registration.attended": "Marked as attended",
    "registration.not_attended": "Marked as not attended",
    "registration.erased": "Personal details erased",
    "access_requirements.purged": "Access requirements removed after the event",
    "registrations.erased": "Registrations erased after the retention period",
}

LABELS = {
    "starts_at": "Start",
    "ends_at": "End",
    "timezone": "Time zone",
    "all_day": "All day",
    "venue_name": "Venue",
    "venue_address": "Address",
    "joining_url": "Joining link",
    "capacity": "Places",
    "waiting_list_enabled": "Waiting list",
    "waiting_list_number": "Waiting list number",
    "registration_opens_at": "Registration opens",
    "registration_closes_at": "Registration closes",
    "members_only": "Members only",
    "reminder_offsets": "Reminders (minutes before)",
    "organiser_name": "Organiser name",
    "organiser_email": "Organiser email",
    "access": "Access provided",
    "access_notes": "Access notes",
    "shared_with": "Shared with",
    "emailed": "People emailed",
    "resend_count": "Times sent again",
    "source": "How",
    "copy": "The copy",
    "retention_days": "Retention period (days)",
    "slug": "Web address",
}

# Internal bookkeeping, meaningless to people: never listed.
HIDDEN = frozenset({"ical_sequence"})

WORDS = {
    "status": {
        "confirmed": "confirmed",
        "waitlisted": "on the waiting list",
        "cancelled": "cancelled",
        "draft": "draft",
        "published": "published",
    },
    "source": {"console": "in the console", "import": "from an attendance report"},
}

WHO = {
    ActorKind.member: "The person registered (their own link or the form)",
    ActorKind.system: "Automatic",
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the field was not there before (nothing to show)
    after: str


@dataclass(frozen=True)
class AuditLine:
    at: dt.datetime
    who: str
    what: str
    registration_id: int | None
    changes: Sequence[Change]


def _moment(text: str, zone: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return f"{local_date(moment, zone)}, {local_time(moment, zone)}"


def value_text(key: str, value: Any, zone: str) -> str:
    """One stored value as words."""
    if value is None or value == "":
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(key, v, zone) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(k, v, zone)}" for k, v in value.items())
    if isinstance(value, str):
        if key in WORDS:
            return WORDS[key].get(value, value)
        if key.endswith("_at") and (shown := _moment(value, zone)) is not None:
            return shown
    return str(value)


def label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def action_text(action: str) -> str:
    return ACTIONS.get(action) or action.replace(".", ": ").replace("_", " ").capitalize()


def describe(entry: AuditEntry, zone: str) -> AuditLine:
    """One entry of the log, in words, times in the event's zone."""
    before, after = entry.before or {}, entry.after or {}
    keys = [
        k
        for k in (*before, *(k for k in after if k not in before))
        if k not in HIDDEN and not (k in before and k in after and before[k] == after[k])
    ]
    changes = [
        Change(
            label(key),
            value_text(key, before[key], zone) if key in before else None,
            value_text(key, after[key], zone) if key in after else "(removed)",
        )
        for key in keys
    ]
    if entry.actor_kind == ActorKind.api:
        who = f"{entry.actor_label} (through the API)" if entry.actor_label else "The API"
    else:
        who = WHO.get(entry.actor_kind) or entry.actor_label or "An organiser"
    return AuditLine(
        at=entry.at,
        who=who,
        what=action_text(entry.action),
        registration_id=entry.registration_id,
        changes=changes,
    )
