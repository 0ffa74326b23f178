"""The privacy room's message: the subject access report. The row holds only the request
and its single-use erase link; the report is read when sending (``service.subject_report``),
so the outbox never holds a copy of the data."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from events.mail.kinds import MessageKind
from events.mail.messages import Message, Prepared, Queued, SendContext
from events.privacy.queries import subject_report
from events.privacy.report import compose_report


class SubjectAccess(Message):
    kind: Literal[MessageKind.subject_access] = MessageKind.subject_access
    secret_fields: ClassVar[frozenset[str]] = frozenset({"erase_token"})

    request_id: int
    erase_token: str | None = None


class PrivacyMail:
    models: Sequence[type[Message]] = (SubjectAccess,)

    async def prepare(
        self, session: AsyncSession, items: Sequence[Queued[Any]], context: SendContext
    ) -> list[Prepared]:
        prepared: list[Prepared] = []
        for item in items:
            # One report per request: these are rare, so one read each is fine.
            report = await subject_report(session, email=item.recipient)
            prepared.append(
                partial(
                    compose_report,
                    item.outgoing(),
                    report,
                    mail_from=context.mail_from,
                    base_url=context.base_url,
                )
            )
        return prepared
