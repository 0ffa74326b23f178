"""Topic alerts: subscribe (double opt-in), confirm, unsubscribe, and the emails new events
cause.

- ``subscribe`` answers the same whatever the address (the page says "check your email"),
  so the form reveals nothing about who is subscribed; it queues a "subscription_confirm"
  email for a new or lapsed subscription, and nothing for an active one.
- Links are ``<id>.<HMAC>`` of the subscription's id and ``created_at`` keyed with the app
  secret, one purpose each (confirm, unsubscribe), compared in constant time. Nothing secret
  is stored; subscribing again after unsubscribing renews ``created_at``, so older links stop
  working.
- ``on_event_published`` queues one "alert" per active immediate subscriber (one per address
  when several of its topics match), exactly once per subscription and event, however often
  the event is published again (the dedupe key decides).
- ``schedule_digests`` (``DIGEST_JOB``, run by the worker) queues one "alert_digest" per daily
  subscriber and local day, listing the events published since the last digest.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from events.alerts.links import Purpose, link_token
from events.alerts.messages import Alert, AlertDigest, SubscriptionConfirm
from events.alerts.models import AlertFrequency, SubscriptionStatus, TopicSubscription
from events.catalog import queries
from events.catalog.models import Event, EventStatus, Topic, event_topics
from events.clock import Clock
from events.config import Settings
from events.errors import NotFound
from events.kit.jobs import Job
from events.kit.signing import Signer
from events.mail.models import OutboxMessage
from events.mail.outbox import enqueue

# A confirmation link older than this no longer confirms (subscribing again sends a new one).
CONFIRM_WITHIN = dt.timedelta(days=14)
_MAX_ID_DIGITS = 18


class InvalidAlertLink(NotFound):
    code = "invalid_alert_link"
    message = (
        "This link is not valid. It may have been copied incompletely, or replaced by a newer "
        "one: subscribe again from the topic page to get a fresh link."
    )


async def subscription_by_token(
    session: AsyncSession, *, token: str, signer: Signer, purpose: Purpose
) -> TopicSubscription:
    """The subscription a link names; a wrong, malformed or stale link is
    ``InvalidAlertLink`` whatever was wrong with it."""
    head, dot, _ = token.partition(".")
    if not dot or not head.isdigit() or len(head) > _MAX_ID_DIGITS:
        raise InvalidAlertLink()
    subscription = (
        await session.execute(
            select(TopicSubscription)
            .where(TopicSubscription.id == int(head))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if subscription is None or not hmac.compare_digest(
        link_token(signer, subscription, purpose).encode(), token.encode()
    ):
        raise InvalidAlertLink()
    return subscription


async def _queue_confirmation(
    session: AsyncSession, clock: Clock, subscription: TopicSubscription, topic: Topic
) -> None:
    await enqueue(
        session,
        clock,
        message=SubscriptionConfirm(
            subscription_id=subscription.id,
            topic_name=topic.name,
            topic_slug=topic.slug,
            frequency=subscription.frequency,
        ),
        recipient=subscription.email,
        dedupe_key=f"subscription_confirm:{subscription.id}:{clock.now().timestamp()}",
    )


async def subscribe(
    session: AsyncSession,
    clock: Clock,
    *,
    topic_slug: str,
    email: str,
    frequency: AlertFrequency,
) -> Topic:
    """Ask for alerts on a topic. Returns the topic; the answer to show is the same whether
    or not an email was queued (see the module docstring)."""
    topic = await queries.topic_by_slug(session, topic_slug)
    now = clock.now()
    existing = (
        await session.execute(
            select(TopicSubscription).where(
                TopicSubscription.topic_id == topic.id, TopicSubscription.email == email
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        subscription = TopicSubscription(
            topic_id=topic.id,
            email=email,
            frequency=frequency,
            status=SubscriptionStatus.pending,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(subscription)
                await session.flush()
        except IntegrityError:
            # The same address subscribed at the same moment: that request sends the email.
            return topic
        await _queue_confirmation(session, clock, subscription, topic)
        return topic
    if existing.status == SubscriptionStatus.active:
        return topic
    if existing.status == SubscriptionStatus.unsubscribed:
        existing.created_at = now  # new links; those in older emails stop working
        existing.confirmed_at = None
        existing.unsubscribed_at = None
        existing.status = SubscriptionStatus.pending
    existing.frequency = frequency
    existing.updated_at = now
    await session.flush()
    await _queue_confirmation(session, clock, existing, topic)
    return topic


async def confirm(
    session: AsyncSession, clock: Clock, *, token: str, signer: Signer
) -> TopicSubscription:
    """Activate a subscription from its confirmation link (again: no change)."""
    subscription = await subscription_by_token(
        session, token=token, signer=signer, purpose="confirm"
    )
    now = clock.now()
    if subscription.status == SubscriptionStatus.unsubscribed:
        raise InvalidAlertLink()
    if subscription.status == SubscriptionStatus.pending:
        if now - subscription.created_at > CONFIRM_WITHIN:
            raise InvalidAlertLink()
        subscription.status = SubscriptionStatus.active
        subscription.confirmed_at = now
        subscription.digest_sent_until = now
        subscription.updated_at = now
        await session.flush()
    await session.refresh(subscription, ["topic"])
    return subscription


async def unsubscribe(
    session: AsyncSession, clock: Clock, *, token: str, signer: Signer
) -> TopicSubscription:
    """Stop a subscription from its unsubscribe link (again: no change)."""
    subscription = await subscription_by_token(
        session, token=token, signer=signer, purpose="unsubscribe"
    )
    if subscription.status != SubscriptionStatus.unsubscribed:
        now = clock.now()
        subscription.status = SubscriptionStatus.unsubscribed
        subscription.unsubscribed_at = now
        subscription.updated_at = now
        await session.flush()
    await session.refresh(subscription, ["topic"])
    return subscription


async def on_event_published(session: AsyncSession, clock: Clock, *, event: Event) -> int:
    """Queue the alerts for a newly published event; returns how many were queued now
    (0 on a second publication: the dedupe keys already exist)."""
    if event.status != EventStatus.published or event.starts_at <= clock.now():
        return 0
    rows = (
        await session.execute(
            select(TopicSubscription, Topic.name, Topic.slug)
            .join(Topic, Topic.id == TopicSubscription.topic_id)
            .join(event_topics, event_topics.c.topic_id == TopicSubscription.topic_id)
            .where(
                event_topics.c.event_id == event.id,
                TopicSubscription.status == SubscriptionStatus.active,
                TopicSubscription.frequency == AlertFrequency.immediate,
            )
            .order_by(TopicSubscription.id)
        )
    ).all()
    chosen: dict[str, tuple[TopicSubscription, str, str]] = {}
    for subscription, topic_name, topic_slug in rows:
        # One alert per address, from its oldest matching subscription.
        chosen.setdefault(subscription.email, (subscription, topic_name, topic_slug))
    keys = {f"alert:{s.id}:{event.id}" for s, _, _ in chosen.values()}
    sent_before = set(
        (
            await session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
            )
        ).all()
        if keys
        else ()
    )
    queued = 0
    for subscription, topic_name, topic_slug in chosen.values():
        key = f"alert:{subscription.id}:{event.id}"
        if key in sent_before:
            continue
        await enqueue(
            session,
            clock,
            message=Alert(
                subscription_id=subscription.id,
                event_id=event.id,
                topic_name=topic_name,
                topic_slug=topic_slug,
                frequency=subscription.frequency,
            ),
            recipient=subscription.email,
            dedupe_key=key,
            event_id=event.id,
        )
        queued += 1
    return queued


def digest_day(now: dt.datetime, zone: str) -> str:
    return now.astimezone(ZoneInfo(zone)).date().isoformat()


async def schedule_digests(
    session: AsyncSession, clock: Clock, *, hour: int, zone: str, limit: int = 500
) -> int:
    """Queue today's digests (from ``hour`` o'clock local time on): one per active daily
    subscriber with events published since their last digest. Returns how many."""
    now = clock.now()
    if now.astimezone(ZoneInfo(zone)).hour < hour:
        return 0
    day = digest_day(now, zone)
    since = func.coalesce(TopicSubscription.digest_sent_until, TopicSubscription.confirmed_at)
    key = literal("alert_digest:") + cast(TopicSubscription.id, String) + literal(f":{day}")
    rows = (
        await session.execute(
            select(
                TopicSubscription.id,
                TopicSubscription.email,
                Topic.name,
                Topic.slug,
                Event.id,
                Event.published_at,
            )
            .join(Topic, Topic.id == TopicSubscription.topic_id)
            .join(event_topics, event_topics.c.topic_id == TopicSubscription.topic_id)
            .join(Event, Event.id == event_topics.c.event_id)
            .where(
                TopicSubscription.status == SubscriptionStatus.active,
                TopicSubscription.frequency == AlertFrequency.daily,
                Event.status == EventStatus.published,
                Event.published_at > since,
                Event.published_at <= now,
                Event.starts_at > now,
                ~exists().where(OutboxMessage.dedupe_key == key),
            )
            .order_by(TopicSubscription.id, Event.starts_at, Event.id)
        )
    ).all()
    grouped: dict[int, list[tuple[str, str, str, int, dt.datetime]]] = {}
    for sub_id, email, topic_name, topic_slug, event_id, published_at in rows:
        if sub_id not in grouped and len(grouped) >= limit:
            break
        grouped.setdefault(sub_id, []).append(
            (email, topic_name, topic_slug, event_id, published_at or now)
        )
    for sub_id, items in grouped.items():
        email, topic_name, topic_slug = items[0][0], items[0][1], items[0][2]
        await enqueue(
            session,
            clock,
            message=AlertDigest(
                subscription_id=sub_id,
                topic_name=topic_name,
                topic_slug=topic_slug,
                frequency=AlertFrequency.daily,
                event_ids=[item[3] for item in items],
            ),
            recipient=email,
            dedupe_key=f"alert_digest:{sub_id}:{day}",
        )
        subscription = await session.get(TopicSubscription, sub_id)
        if subscription is not None:
            latest = max(item[4] for item in items)
            current = subscription.digest_sent_until
            subscription.digest_sent_until = max(latest, current) if current else latest
    await session.flush()
    return len(grouped)


def events_in_order(events: Sequence[Event], ids: Sequence[int]) -> list[Event]:
    by_id = {event.id: event for event in events}
    return [by_id[i] for i in ids if i in by_id]


async def _digest_job(
    session: AsyncSession, clock: Clock, settings: Settings, signer: Signer
) -> int:
    return await schedule_digests(
        session, clock, hour=settings.alert_digest_hour, zone=settings.timezone
    )


DIGEST_JOB = Job(name="digests", run=_digest_job)
