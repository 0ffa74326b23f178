"""``enqueue``: how any service says "this change causes that email", in its own transaction.

The row commits or rolls back with the change, so an email is never sent for a change that
did not happen, and never lost for one that did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.mail.models import OutboxMessage, OutboxStatus


async def enqueue(
    session: AsyncSession,
    clock: Clock,
    *,
    kind: str,
    recipient: str,
    payload: Mapping[str, Any],
    dedupe_key: str,
) -> OutboxMessage:
    """Queue one message; a second call with the same ``dedupe_key`` returns the first row
    unchanged, so replaying a change cannot send its email twice."""
    existing = (
        await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    now = clock.now()
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        payload=dict(payload),
        status=OutboxStatus.pending,
        attempts=0,
        next_attempt_at=now,
        dedupe_key=dedupe_key,
        last_error="",
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message
