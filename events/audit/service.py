"""The audit log: every change to an event or registration, by whom, before and after.

Services call ``record`` in the same transaction as the change, so the log and the data
never disagree. ``Actor`` says who acted; a member or the system carries no personal data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from events.audit.models import ActorKind, AuditEntry
from events.clock import Clock


class Person(Protocol):
    """Who acted, as the log needs them: an organiser account (kept structural, so this low
    room never imports the organiser room)."""

    id: int
    email: str


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    organiser_id: int | None = None
    label: str = ""

    @classmethod
    def of(cls, organiser: Person, *, via_api: bool = False) -> Actor:
        return cls(
            ActorKind.api if via_api else ActorKind.organiser,
            organiser_id=organiser.id,
            label=organiser.email,
        )


MEMBER = Actor(ActorKind.member, label="member")
SYSTEM = Actor(ActorKind.system, label="system")


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a value for the log."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value differs, as (before, after)."""
    keys = [k for k in after if _plain(before.get(k)) != _plain(after.get(k))]
    return {k: _plain(before.get(k)) for k in keys}, {k: _plain(after[k]) for k in keys}


async def record(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    action: str,
    *,
    event_id: int | None = None,
    registration_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=clock.now(),
        actor_kind=actor.kind,
        organiser_id=actor.organiser_id,
        actor_label=actor.label[:320],
        event_id=event_id,
        registration_id=registration_id,
        action=action,
        before=_plain(dict(before or {})),
        after=_plain(dict(after or {})),
    )
    session.add(entry)
    await session.flush()
    return entry
