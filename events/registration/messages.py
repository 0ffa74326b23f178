"""The registration room's messages: a person's own place (confirmed, waitlisted, promoted,
cancelled, reminder) and the notices to everyone holding a place at an event (event
updated or cancelled, an organiser's broadcast) or waiting for one (the event moved).
Their models, and the handler that decides at send time whether each still applies and
composes it.

Send-time rules (``_skip_reason``), from the registration and the event as they are now:

- a place's own news (confirmed, promoted, on the waiting list) goes only while it is still
  true: not once the place was cancelled or erased, the event cancelled, or the place moved
  on (a confirmation for someone moved back to the waiting list). A "you have a place"
  REQUEST queued before a cancellation would otherwise reach the person after it;
- a notice or reminder for a registration since cancelled or erased is not sent; a reminder
  also needs the place still confirmed, the event still published, at the start it was
  queued for, and not yet started;
- a cancelled event's notice goes whatever happened to the registration, and so does a
  place's cancellation (an erasure's included: it removes the calendar entry);
- a move's notice to the waiting list goes while the person is still waiting (a
  promotion's email brings the new details and the invite) and the event is not cancelled
  since (that has its own notice).

Each skipped row keeps its reason. A message's ``sequence`` (its invite's SEQUENCE) was given
when it was queued (``service.invite_sequence``).

Replies reach a person (``reply_to``): the event's organiser, or for a broadcast the
organiser who wrote it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import PlainSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import Event, EventStatus
from events.mail.compose import CalendarPart, ComposeError, Outgoing, ReplyTo, compose
from events.mail.kinds import MessageKind
from events.mail.messages import Message, Prepared, Queued, SendContext, Skip
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import ACCESS_NEEDS

# Stored as ``datetime.isoformat()`` (rows queued before the models kept that shape).
IsoDateTime = Annotated[dt.datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str)]

# The calendar hook: (row, event, registration, base_url, mail_from) -> the invite part. The
# calendar room provides it (calendar/invites.py); events/wiring.py plugs it in, so this room
# never imports the calendar room (which reads registrations for its private feeds).
InviteBuilder = Callable[[Outgoing, Event, Registration | None, str, str], CalendarPart | None]


class PlaceMessage(Message):
    """What every email about someone's place carries. Raw link tokens ride along until
    the email is finished with."""

    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"manage_token", "join_token", "calendar_token"}
    )

    registration_id: int | None = None
    event_id: int
    event_slug: str = ""
    event_title: str = ""
    name: str = ""
    # The place's status when queued: a notice to a confirmed place carries its links.
    status: RegistrationStatus | None = None
    position: int | None = None
    manage_token: str | None = None
    join_token: str | None = None
    calendar_token: str | None = None
    # The SEQUENCE of its calendar invite, given when queued: above every invite queued to
    # this address about this event before. None on rows queued before it was kept (and on
    # messages that carry no invite): the invite falls back to the event's own.
    sequence: int | None = None


class Confirmed(PlaceMessage):
    kind: Literal[MessageKind.confirmed] = MessageKind.confirmed
    subject_template: ClassVar[str] = "Your place is confirmed: {title}"
    resent: bool = False


class Waitlisted(PlaceMessage):
    kind: Literal[MessageKind.waitlisted] = MessageKind.waitlisted
    subject_template: ClassVar[str] = "You are on the waiting list: {title}"
    resent: bool = False


class Promoted(PlaceMessage):
    kind: Literal[MessageKind.promoted] = MessageKind.promoted
    subject_template: ClassVar[str] = "A place has come up for you: {title}"


class Cancelled(PlaceMessage):
    kind: Literal[MessageKind.cancelled] = MessageKind.cancelled
    subject_template: ClassVar[str] = "Your place has been cancelled: {title}"
    # Queued by an erasure: once finished with, the row keeps nothing of the person.
    erased: bool = False

    def forget_recipient(self) -> bool:
        return self.erased


class Reminder(PlaceMessage):
    kind: Literal[MessageKind.reminder] = MessageKind.reminder
    subject_template: ClassVar[str] = "Reminder: {title}, {when}"
    offset: int
    # The start it reminds of: a rescheduled event's old reminders are not sent.
    starts_at: IsoDateTime


class EventUpdated(PlaceMessage):
    kind: Literal[MessageKind.event_updated] = MessageKind.event_updated
    subject_template: ClassVar[str] = "Changed: {title}"
    changed: list[str] = []


class EventCancelled(PlaceMessage):
    kind: Literal[MessageKind.event_cancelled] = MessageKind.event_cancelled
    subject_template: ClassVar[str] = "Cancelled: {title}"


class WaitlistMoved(PlaceMessage):
    """To someone on the waiting list: the event's time or place changed (``changed``: those
    fields) and they are still waiting. A plain email, never a calendar invite: they hold no
    place, so nothing goes in their calendar. It carries the management link only (to leave
    the waiting list), never the joining or calendar link. (A cancelled event's notice to
    the waiting list is ``EventCancelled``, which carries no invite for them either.)"""

    kind: Literal[MessageKind.waitlist_moved] = MessageKind.waitlist_moved
    subject_template: ClassVar[str] = "Changed: {title} (you are on the waiting list)"
    changed: list[str] = []


class Broadcast(PlaceMessage):
    kind: Literal[MessageKind.broadcast] = MessageKind.broadcast
    subject_template: ClassVar[str] = "{subject} ({title})"
    subject: str
    body: str
    sender_name: str = ""
    # The organiser who wrote it: replies reach them (rows queued before it: the event's
    # organiser).
    sender_email: str = ""


PLACE_MESSAGES: dict[RegistrationStatus, type[Confirmed] | type[Waitlisted]] = {
    RegistrationStatus.confirmed: Confirmed,
    RegistrationStatus.waitlisted: Waitlisted,
}
# Sent to registrants, whatever their status: checked against the registration now.
_NOTICES = (Reminder, EventUpdated, Broadcast)
# A place's own news, and the status it announces.
_PLACE_NEWS: dict[type[PlaceMessage], RegistrationStatus] = {
    Confirmed: RegistrationStatus.confirmed,
    Promoted: RegistrationStatus.confirmed,
    Waitlisted: RegistrationStatus.waitlisted,
}


def _superseded(
    message: PlaceMessage, event: Event | None, registration: Registration | None
) -> str | None:
    """Why a place's own news is no longer true, or None when it still is."""
    if message.registration_id is None:
        return None  # nothing to check it against
    if registration is None or registration.erased_at is not None:
        return "the registration no longer exists"
    if registration.status == RegistrationStatus.cancelled:
        return "superseded: the registration was cancelled"
    if event is not None and event.status == EventStatus.cancelled:
        return "superseded: the event was cancelled"
    if registration.status != _PLACE_NEWS[type(message)]:
        return f"superseded: the registration is {registration.status.value} now"
    return None


def _waitlist_skip(event: Event | None, registration: Registration | None) -> str | None:
    if registration is None or registration.erased_at is not None:
        return "the registration no longer exists"
    if registration.status == RegistrationStatus.cancelled:
        return "the registration was cancelled"
    if registration.status != RegistrationStatus.waitlisted:
        return f"superseded: the registration is {registration.status.value} now"
    if event is not None and event.status == EventStatus.cancelled:
        return "superseded: the event was cancelled"
    return None


def _skip_reason(
    message: PlaceMessage, event: Event | None, registration: Registration | None, now: dt.datetime
) -> str | None:
    """Why this message should not be sent any more, or None to send it."""
    if type(message) in _PLACE_NEWS:
        return _superseded(message, event, registration)
    if isinstance(message, WaitlistMoved):
        return _waitlist_skip(event, registration)
    if not isinstance(message, _NOTICES):
        return None
    if registration is None or registration.erased_at is not None:
        return "the registration no longer exists"
    if registration.status == RegistrationStatus.cancelled:
        return "the registration was cancelled"
    if not isinstance(message, Reminder) or event is None:
        return None
    if registration.status != RegistrationStatus.confirmed:
        return "the registration is not confirmed"
    if event.status != EventStatus.published:
        return f"the event is {event.status.value}"
    if message.starts_at != event.starts_at:
        return "the event was rescheduled"
    if now >= event.starts_at:
        return "the event has started"
    return None


class RegistrationMail:
    """The handler for every ``PlaceMessage`` kind; ``invites`` builds the calendar part."""

    models: Sequence[type[Message]] = (
        Confirmed,
        Waitlisted,
        Promoted,
        Cancelled,
        Reminder,
        EventUpdated,
        EventCancelled,
        WaitlistMoved,
        Broadcast,
    )

    def __init__(self, invites: InviteBuilder | None = None) -> None:
        self.invites = invites

    async def prepare(
        self, session: AsyncSession, items: Sequence[Queued[Any]], context: SendContext
    ) -> list[Prepared]:
        messages: list[PlaceMessage] = [item.message for item in items]
        event_ids = {m.event_id for m in messages}
        registration_ids = {m.registration_id for m in messages} - {None}
        events = {
            e.id: e for e in await session.scalars(select(Event).where(Event.id.in_(event_ids)))
        }
        registrations = {
            r.id: r
            for r in await session.scalars(
                select(Registration).where(Registration.id.in_(registration_ids))
            )
        }
        prepared: list[Prepared] = []
        for item, message in zip(items, messages, strict=True):
            event = events.get(message.event_id)
            registration = (
                registrations.get(message.registration_id)
                if message.registration_id is not None
                else None
            )
            reason = _skip_reason(message, event, registration, context.now)
            if reason is not None:
                prepared.append(Skip(reason))
            else:
                prepared.append(partial(self._compose, item, event, registration, context))
        return prepared

    def _compose(
        self,
        item: Queued[PlaceMessage],
        event: Event | None,
        registration: Registration | None,
        context: SendContext,
    ) -> Any:
        if event is None:
            raise ComposeError("the event this message is about no longer exists")
        outgoing = item.outgoing()
        codes = registration.access_requirements if registration is not None else []
        calendar = (
            self.invites(outgoing, event, registration, context.base_url, context.mail_from)
            if self.invites is not None
            else None
        )
        return compose(
            outgoing,
            event=event,
            mail_from=context.mail_from,
            base_url=context.base_url,
            access_requirements=[ACCESS_NEEDS.get(code, code) for code in codes],
            access_details=registration.access_details if registration is not None else "",
            calendar=calendar,
            reply_to=reply_to(item.message, event),
        )


def reply_to(message: PlaceMessage, event: Event) -> ReplyTo:
    """Who a reply reaches: the organiser who wrote a message, else the event's organiser
    (the contact the event shows, which starts as its owner's address)."""
    if isinstance(message, Broadcast) and message.sender_email.strip():
        name = message.sender_name if message.sender_name != message.sender_email else ""
        return ReplyTo(name=name, email=message.sender_email)
    return ReplyTo(name=event.organiser_name, email=event.organiser_email)
