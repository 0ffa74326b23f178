"""The alerts room's messages: the double opt-in confirmation, an immediate alert, the
daily digest. Their models, and the handler that decides at send time whether each still
applies and composes it.

Alert rows carry no secrets: their confirm and unsubscribe links are HMACs computed here,
when sending (``links.link_token``).

Send-time rules: a confirmation only while the subscription is pending; an alert or a
digest only while it is active; an alert only for an event still published; a digest only
with at least one of its events still published and to come (those that are not are left
out).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from functools import partial
from typing import Any, ClassVar, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.alerts.links import link_token
from events.alerts.models import AlertFrequency, SubscriptionStatus, TopicSubscription
from events.catalog.models import Event, EventStatus
from events.mail.compose import ComposeError, compose
from events.mail.kinds import MessageKind
from events.mail.messages import Message, Prepared, Queued, SendContext, Skip


class SubscriptionMessage(Message):
    subscription_id: int
    topic_name: str = ""
    topic_slug: str = ""
    frequency: AlertFrequency = AlertFrequency.immediate


class SubscriptionConfirm(SubscriptionMessage):
    kind: Literal[MessageKind.subscription_confirm] = MessageKind.subscription_confirm
    subject_template: ClassVar[str] = "Confirm your email alerts for {topic}"


class Alert(SubscriptionMessage):
    kind: Literal[MessageKind.alert] = MessageKind.alert
    subject_template: ClassVar[str] = "New {topic} event: {title}"
    event_id: int


class AlertDigest(SubscriptionMessage):
    kind: Literal[MessageKind.alert_digest] = MessageKind.alert_digest
    subject_template: ClassVar[str] = "New {topic} events: {count}"
    event_ids: list[int]


def _skip_reason(
    message: SubscriptionMessage,
    subscription: TopicSubscription | None,
    event: Event | None,
    digest: Sequence[Event],
) -> str | None:
    """Why this message should not be sent any more, or None to send it."""
    if subscription is None:
        return "the subscription no longer exists"
    if isinstance(message, SubscriptionConfirm):
        if subscription.status != SubscriptionStatus.pending:
            return f"the subscription is {subscription.status.value} already"
        return None
    if subscription.status != SubscriptionStatus.active:
        return "the subscriber has unsubscribed"
    if isinstance(message, Alert) and event is not None and event.status != EventStatus.published:
        return "the event is no longer published"
    if isinstance(message, AlertDigest) and not digest:
        return "none of the digest's events is still published and to come"
    return None


class AlertMail:
    models: Sequence[type[Message]] = (SubscriptionConfirm, Alert, AlertDigest)

    async def prepare(
        self, session: AsyncSession, items: Sequence[Queued[Any]], context: SendContext
    ) -> list[Prepared]:
        messages: list[SubscriptionMessage] = [item.message for item in items]
        event_ids: set[int] = set()
        for message in messages:
            if isinstance(message, Alert):
                event_ids.add(message.event_id)
            elif isinstance(message, AlertDigest):
                event_ids.update(message.event_ids)
        events = {
            e.id: e for e in await session.scalars(select(Event).where(Event.id.in_(event_ids)))
        }
        subscriptions = {
            s.id: s
            for s in await session.scalars(
                select(TopicSubscription).where(
                    TopicSubscription.id.in_({m.subscription_id for m in messages})
                )
            )
        }
        prepared: list[Prepared] = []
        for item, message in zip(items, messages, strict=True):
            subscription = subscriptions.get(message.subscription_id)
            event = events.get(message.event_id) if isinstance(message, Alert) else None
            digest = (
                [
                    events[i]
                    for i in message.event_ids
                    if i in events
                    and events[i].status == EventStatus.published
                    and events[i].starts_at > context.now
                ]
                if isinstance(message, AlertDigest)
                else []
            )
            reason = _skip_reason(message, subscription, event, digest)
            if reason is not None or subscription is None:
                prepared.append(Skip(reason or "the subscription no longer exists"))
                continue
            prepared.append(partial(_compose, item, subscription, event, digest, context))
        return prepared


def _compose(
    item: Queued[SubscriptionMessage],
    subscription: TopicSubscription,
    event: Event | None,
    digest: Sequence[Event],
    context: SendContext,
) -> EmailMessage:
    message = item.message
    if isinstance(message, Alert) and event is None:
        raise ComposeError("the event this message is about no longer exists")
    links = {"unsubscribe_token": link_token(context.signer, subscription, "unsubscribe")}
    if isinstance(message, SubscriptionConfirm):
        links["confirm_token"] = link_token(context.signer, subscription, "confirm")
    return compose(
        item.outgoing(**links),
        event=event,
        mail_from=context.mail_from,
        base_url=context.base_url,
        events=digest,
    )
