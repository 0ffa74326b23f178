"""``enqueue``: how any service says "this change causes that email", in its own transaction.

The row commits or rolls back with the change, so an email is never sent for a change that
did not happen, and never lost for one that did.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.mail.messages import Message, validated
from events.mail.models import OutboxMessage, OutboxStatus

# Built once: building and cache-keying a statement costs more than running it here.
_INSERT = {
    name: insert(OutboxMessage)
    .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
    .returning(OutboxMessage)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_BY_KEY = select(OutboxMessage).where(OutboxMessage.dedupe_key == bindparam("dedupe_key"))


async def enqueue(
    session: AsyncSession,
    clock: Clock,
    *,
    message: Message,
    recipient: str,
    dedupe_key: str,
    event_id: int | None = None,
    not_before: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue one message; a second call with the same ``dedupe_key`` returns the first row
    unchanged, so replaying a change cannot send its email twice.

    One statement in the usual case: ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING``; the unique index decides, so a simultaneous duplicate cannot slip between
    a check and an insert. Only a duplicate costs a second statement (reading the first row).

    ``message`` is validated again here (``InvalidMessage`` when it does not fit its
    model), so no row is written that the worker could not read back.
    """
    message = validated(message)
    now = clock.now()
    values = {
        "kind": message.kind.value,
        "recipient": recipient,
        "payload": message.payload(),
        "status": OutboxStatus.pending,
        "attempts": 0,
        "next_attempt_at": max(now, not_before) if not_before else now,
        "dedupe_key": dedupe_key,
        "last_error": "",
        "created_at": now,
        "event_id": event_id,
    }
    statement = _INSERT[session.get_bind().dialect.name]
    row = (await session.scalars(statement, values)).one_or_none()
    if row is not None:
        return row
    return (await session.scalars(_BY_KEY, {"dedupe_key": dedupe_key})).one()
