"""Every kind of message the outbox carries. The values are the ``kind`` column's strings,
so rows queued before this enum existed read back unchanged.

Adding a kind: a value here, its model and handler in the room that sends it (see
``events/mail/messages.py``), and its templates under ``templates/mail``.
"""

from __future__ import annotations

import enum


class MessageKind(enum.StrEnum):
    # registration: a person's own place
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    promoted = "promoted"
    cancelled = "cancelled"
    reminder = "reminder"
    # registration: notices to everyone holding a place at an event
    event_updated = "event_updated"
    event_cancelled = "event_cancelled"
    broadcast = "broadcast"
    # registration: the waiting list told that the event's time or place changed (no invite)
    waitlist_moved = "waitlist_moved"
    # alerts
    subscription_confirm = "subscription_confirm"
    alert = "alert"
    alert_digest = "alert_digest"
    # privacy
    subject_access = "subject_access"
