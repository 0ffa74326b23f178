"""Moved to ``events.registration.notices`` (the registration room owns its notices).

Kept so callers written against this path keep working while issue 12 lands; the catalogue's
effects module should import ``events.registration.notices`` directly, and then this shim
goes. It is the one module of ``events.mail`` allowed to import a room
(tests/architecture/test_imports.py names it).
"""

from __future__ import annotations

from events.registration.notices import (
    Audience,
    broadcast,
    notify_event_cancelled,
    notify_event_updated,
)

__all__ = ["Audience", "broadcast", "notify_event_cancelled", "notify_event_updated"]
