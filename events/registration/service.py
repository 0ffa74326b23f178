"""Registration rules: register, register for a series, cancel, promote from the waiting list.

Services take ``(session, clock, ...)``, flush and never commit; the caller's unit of work
commits the registration, its place and its outbox rows together, or none of them.

Ordering: every change to one event's places or waiting list first takes that event's lock
(``capacity.locked_event`` / ``capacity.lock_event``), so waiting-list numbers are handed out
1, 2, 3 ... in arrival order and promotions take the first in line, whatever the concurrency.

Invite sequences: every calendar invite to one address about one event carries a SEQUENCE
above any queued to that address before (``invite_sequence``), across its registrations: a
cancelled place's CANCEL, then a new registration's REQUEST, and calendar apps take the
REQUEST (they ignore one whose SEQUENCE is below what they have seen for the UID, and the UID
is the event's). The number is given when the message is queued, under the event's lock, so
numbers follow the order of the changes themselves: a message delayed by a retry, or sent by
a second worker meanwhile, can never overtake a newer state in a calendar. A message that no
longer applies by the time it is sent is skipped by the handler (``messages.py``).

Tokens: each email that carries links gets freshly minted management, joining and calendar
tokens (the raw values go into the outbox payload only, until the email is sent; the database
keeps keyed hashes, one row each), and links in older emails keep working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit.service import MEMBER, SYSTEM, Actor, record
from events.catalog.errors import EventNotFound, SeriesNotFound
from events.catalog.models import Event, EventFormat, EventStatus, Series
from events.catalog.presentation import RegistrationState, registration_state
from events.catalog.queries import bookable_series_sessions
from events.clock import Clock
from events.errors import Conflict
from events.kit.signing import Purpose, Signer
from events.mail.outbox import enqueue
from events.registration import capacity, tokens
from events.registration.errors import (
    AlreadyCancelled,
    EventCancelled,
    EventFull,
    EventNotPublished,
    EventPast,
    MembershipRequired,
    NoPlaceLeft,
    NotConfirmed,
    NotOnWaitingList,
    RegistrationClosed,
    RegistrationMissing,
    RegistrationNotFound,
    RegistrationNotOpen,
    RegistrationRefused,
)
from events.registration.messages import (
    PLACE_MESSAGES,
    Cancelled,
    Promoted,
    Waitlisted,
)
from events.registration.models import (
    Registration,
    RegistrationStatus,
    RegistrationToken,
    RetiredCalendarLink,
    TokenPurpose,
)
from events.registration.schemas import RegistrationInput

# A second registration with the same email this soon after the first (or after the last
# re-send) re-sends nothing: see ``_answer_again``.
RESEND_QUIET = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Outcome:
    """What the person registering is told: confirmed, or waitlisted at ``position``.

    For an email already registered, the outcome is what a newcomer would be told now (the
    holder gets their confirmation again by email), so the answer reveals nothing; when
    that answer is a refusal it is carried in ``refused`` rather than raised, because the
    re-sent confirmation must still commit."""

    status: RegistrationStatus
    position: int | None
    event: Event
    refused: RegistrationRefused | None = None
    # The registration written (set for a new registration; None when answering again).
    registration: Registration | None = None

    def raise_refusal(self) -> None:
        if self.refused is not None:
            raise self.refused


@dataclass(frozen=True)
class CancelOutcome:
    registration: Registration
    event: Event
    already_cancelled: bool
    promoted: Sequence[Registration] = field(default_factory=tuple)
    # A confirmed place went back to the event (and to the first person waiting, if any).
    place_freed: bool = False


def _local(moment: dt.datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    hour = local.strftime("%I:%M%p").lstrip("0").lower().replace(":00", "")
    return f"{local:%A} {local.day} {local:%B %Y} at {hour}"


def check_can_register(event: Event, now: dt.datetime, data: RegistrationInput) -> None:
    """The window and eligibility rules; the same ``registration_state`` the pages show."""
    state = registration_state(event, now)
    if state == RegistrationState.cancelled:
        raise EventCancelled()
    if state == RegistrationState.draft:
        raise EventNotPublished()
    if state == RegistrationState.past:
        raise EventPast()
    if state == RegistrationState.not_open_yet:
        assert event.registration_opens_at is not None
        raise RegistrationNotOpen(
            "Registration for this event opens on "
            f"{_local(event.registration_opens_at, event.timezone)}."
        )
    if state == RegistrationState.closed:
        raise RegistrationClosed()
    check_input(event, data)


def check_input(event: Event, data: RegistrationInput) -> None:
    """What the form itself must carry for this event (a membership number for a
    members-only event): ``MembershipRequired``, a 422 next to the field, else nothing.
    Views check it before counting the rate limits, so a form error costs nothing."""
    if event.members_only and not data.is_valid_membership():
        raise MembershipRequired()


async def _event(session: AsyncSession, event_id: int) -> Event:
    event = (
        await session.execute(
            select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if event is None:
        raise EventNotFound()
    return event


_ACTIVE = (
    select(Registration)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.email == bindparam("email"),
        Registration.status != RegistrationStatus.cancelled,
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)
# The next waiting-list number and how many are waiting now, in one statement.
_QUEUE = select(
    func.max(Registration.waiting_list_number),
    func.count(Registration.id).filter(Registration.status == RegistrationStatus.waitlisted),
).where(Registration.event_id == bindparam("event_id"))


async def _active(session: AsyncSession, event_id: int, email: str) -> Registration | None:
    """The active registration for this email, locked. ``register`` calls this under the
    event's lock, so a simultaneous repeat waits: each re-send gets its own count (and dedupe
    key) and the newest link is the one emailed.

    A statement of its own, after the lock: joined into the locking SELECT, PostgreSQL
    (READ COMMITTED) would re-check only the locked event row once the lock is granted and
    return the registrations as they were before the wait, missing a simultaneous repeat's
    committed row (``test_same_email_registering_simultaneously_gets_one_place`` caught it)."""
    result = await session.execute(_ACTIVE, {"event_id": event_id, "email": email})
    return result.scalar_one_or_none()


async def place_in_queue(session: AsyncSession, registration: Registration) -> int | None:
    """1 for the first person waiting; None unless waitlisted."""
    if registration.status != RegistrationStatus.waitlisted:
        return None
    ahead = (
        await session.execute(
            select(func.count(Registration.id)).where(
                Registration.event_id == registration.event_id,
                Registration.status == RegistrationStatus.waitlisted,
                Registration.waiting_list_number < registration.waiting_list_number,
            )
        )
    ).scalar_one()
    return int(ahead) + 1


async def _waiting_count(session: AsyncSession, event_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count(Registration.id)).where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.waitlisted,
                )
            )
        ).scalar_one()
    )


def place_fields(
    registration: Registration, event: Event, minted: tokens.LinkSet | None, position: int | None
) -> dict[str, Any]:
    """The fields every ``messages.PlaceMessage`` about ``registration`` carries."""
    fields: dict[str, Any] = {
        "registration_id": registration.id,
        "event_id": event.id,
        "event_slug": event.slug,
        "event_title": event.title,
        "name": registration.name,
        "status": registration.status,
        "position": position,
    }
    if minted is not None:
        # Raw tokens live here only until the worker has sent the email (mail issue).
        fields["manage_token"] = minted.manage
        fields["join_token"] = minted.join
        fields["calendar_token"] = minted.calendar
    return fields


async def invite_sequence(session: AsyncSession, registration: Registration, *, floor: int) -> int:
    """The SEQUENCE for the next invite to ``registration``'s address about its event, recorded
    on the registration: at least ``floor`` (the event's own sequence; one more for a place's
    CANCEL) and above every invite queued before to that address for that event. Call with
    the event's lock held (every path that queues an invite does), so two changes cannot
    take one number."""
    await session.flush()
    previous = await session.scalar(
        select(func.max(Registration.invite_sequence)).where(
            Registration.event_id == registration.event_id,
            Registration.email == registration.email,
        )
    )
    sequence = floor if previous is None else max(floor, previous + 1)
    registration.invite_sequence = sequence
    return sequence


async def mint_links(
    session: AsyncSession, clock: Clock, registration: Registration, *, signer: Signer
) -> tokens.LinkSet:
    """Fresh secret links for one email about ``registration``: their hashes are stored (one
    row each) and the raw values returned for the outbox payload only. Links sent earlier
    keep working until the registration is erased."""
    if registration.id is None:
        await session.flush()
    minted = tokens.LinkSet.generate(signer)
    now = clock.now()
    session.add_all(
        RegistrationToken(
            registration_id=registration.id,
            purpose=TokenPurpose(purpose),
            token_hash=digest,
            created_at=now,
        )
        for purpose, digest in minted.hashes(signer).items()
    )
    await session.flush()
    return minted


async def _by_token(
    session: AsyncSession, purpose: TokenPurpose, token: str, *, signer: Signer
) -> Registration:
    """The registration behind a secret link; a wrong, malformed or erased one is the same
    ``RegistrationNotFound`` as a missing one."""
    if not tokens.plausible(token):
        raise RegistrationNotFound()
    digest = signer.hash_token(Purpose(purpose.value), token)
    row = (
        await session.execute(
            select(RegistrationToken.token_hash, Registration)
            .join(Registration, Registration.id == RegistrationToken.registration_id)
            .where(RegistrationToken.token_hash == digest, RegistrationToken.purpose == purpose)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None or not signer.matches(Purpose(purpose.value), token, row[0]):
        raise RegistrationNotFound()
    registration: Registration = row[1]
    if registration.erased_at is not None:
        raise RegistrationNotFound()
    await session.refresh(registration, ["event"])
    return registration


async def register(
    session: AsyncSession,
    clock: Clock,
    *,
    event_id: int | None = None,
    slug: str | None = None,
    data: RegistrationInput,
    signer: Signer,
) -> Outcome:
    """Register one person: a confirmed place if one is left, else the waiting list (if the
    event has one), else ``EventFull``. An email already registered gets no second place.

    The event is named by ``event_id`` or by ``slug`` (a public event only: a draft is as
    absent as a missing one). It is read and locked in one statement before anything else,
    so every registration for one event runs one at a time from here to commit: the check
    for an active registration with this email cannot race a simultaneous one (the partial
    unique index stays as the database's guarantee), and waiting-list numbers follow
    arrival order."""
    if (event_id is None) == (slug is None):
        raise TypeError("register() needs exactly one of event_id and slug")
    now = clock.now()
    event = await capacity.locked_event(session, event_id=event_id, slug=slug)
    if event is None:
        raise EventNotFound()
    check_can_register(event, now, data)

    existing = await _active(session, event.id, data.email)
    if existing is not None:
        return await _answer_again(session, clock, event, existing, signer=signer)
    return await _new_registration(session, clock, event, data, signer=signer)


async def _new_registration(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    data: RegistrationInput,
    *,
    signer: Signer,
    actor: Actor = MEMBER,
    wanted: str = "auto",
) -> Outcome:
    """Called with the event's lock held (``register``, ``add_by_hand``). ``wanted``:
    "auto" (a place if one is left, else the waiting list if the event has one, else
    ``EventFull``), "confirmed" (a place or ``NoPlaceLeft``), "waitlisted" (the waiting
    list, even when places are left or the event has no waiting list: an organiser's call)."""
    now = clock.now()
    number: int | None = None
    position: int | None = None
    claim = (
        capacity.Claim.FULL
        if wanted == "waitlisted"
        else await capacity.claim_locked(session, event)
    )
    if claim == capacity.Claim.FULL:
        if wanted == "confirmed":
            raise NoPlaceLeft()
        if wanted == "auto" and not event.waiting_list_enabled:
            raise EventFull()
        # Under the event's lock no place can be freed meanwhile, and numbers are handed
        # out one at a time: the next number, and how many are waiting ahead.
        last, waiting = (await session.execute(_QUEUE, {"event_id": event.id})).one()
        number = (last or 0) + 1
        position = int(waiting) + 1

    status = RegistrationStatus.waitlisted if number else RegistrationStatus.confirmed
    registration = Registration(
        event=event,
        name=data.name,
        email=data.email,
        membership_number=data.membership_number if event.members_only else "",
        role=data.role,
        setting=data.setting,
        access_requirements=list(data.access_requirements),
        access_details=data.access_details,
        consents=list(data.consents),
        status=status,
        waiting_list_number=number,
        resend_count=0,
        attended=False,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status == RegistrationStatus.confirmed else None,
    )
    session.add(registration)
    await session.flush()
    minted = await mint_links(session, clock, registration, signer=signer)
    sequence = (
        await invite_sequence(session, registration, floor=event.ical_sequence)
        if status == RegistrationStatus.confirmed
        else None
    )
    await enqueue(
        session,
        clock,
        message=PLACE_MESSAGES[status](
            **place_fields(registration, event, minted, position), sequence=sequence
        ),
        recipient=registration.email,
        dedupe_key=f"registration:{registration.id}:{status.value}",
        event_id=event.id,
    )
    await _audit(
        session, clock, actor, "registration.created", registration, after=_state(registration)
    )
    return Outcome(status=status, position=position, event=event, registration=registration)


async def _answer_again(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    existing: Registration,
    *,
    signer: Signer,
) -> Outcome:
    """Re-send the holder's confirmation (with fresh links) and answer as a newcomer would.

    Within ``RESEND_QUIET`` of the registration's last change (its creation, or the last
    re-send) nothing is sent again: that is a double-click or a form sent twice, and the
    email for the first is still on its way. The answer is the same either way."""
    if clock.now() - existing.updated_at < RESEND_QUIET:
        return await _newcomer_answer(session, event)
    existing.resend_count += 1
    existing.updated_at = clock.now()
    minted = await mint_links(session, clock, existing, signer=signer)
    sequence = (
        await invite_sequence(session, existing, floor=event.ical_sequence)
        if existing.status == RegistrationStatus.confirmed
        else None
    )
    await enqueue(
        session,
        clock,
        message=PLACE_MESSAGES[existing.status](
            **place_fields(existing, event, minted, await place_in_queue(session, existing)),
            resent=True,
            sequence=sequence,
        ),
        recipient=existing.email,
        dedupe_key=f"registration:{existing.id}:resend:{existing.resend_count}",
        event_id=event.id,
    )
    await _audit(
        session,
        clock,
        MEMBER,
        "registration.resent",
        existing,
        after={"resend_count": existing.resend_count},
    )
    return await _newcomer_answer(session, event)


async def _newcomer_answer(session: AsyncSession, event: Event) -> Outcome:
    """What someone registering now would be told (for an email already registered)."""
    if event.places_left is None or event.places_left > 0:
        return Outcome(status=RegistrationStatus.confirmed, position=None, event=event)
    if event.waiting_list_enabled:
        waiting = await _waiting_count(session, event.id)
        return Outcome(status=RegistrationStatus.waitlisted, position=waiting + 1, event=event)
    return Outcome(
        status=RegistrationStatus.confirmed, position=None, event=event, refused=EventFull()
    )


async def _give_claimed_place(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    registration: Registration,
    *,
    signer: Signer,
    actor: Actor,
    action: str,
) -> None:
    """Confirm someone waiting whose place was just claimed (``capacity.claim_place``):
    the "a place has come up" email with fresh links, and the audit entry."""
    before = _state(registration)
    registration.status = RegistrationStatus.confirmed
    registration.confirmed_at = registration.updated_at = clock.now()
    minted = await mint_links(session, clock, registration, signer=signer)
    sequence = await invite_sequence(session, registration, floor=event.ical_sequence)
    await enqueue(
        session,
        clock,
        message=Promoted(**place_fields(registration, event, minted, None), sequence=sequence),
        recipient=registration.email,
        # The number names this stay on the waiting list: someone moved back to it and
        # promoted again gets a second email.
        dedupe_key=_promoted_key(registration),
        event_id=event.id,
    )
    await _audit(
        session, clock, actor, action, registration, before=before, after=_state(registration)
    )


async def promote_waiting_list(
    session: AsyncSession, clock: Clock, *, event_id: int, signer: Signer
) -> list[Registration]:
    """Give freed places to the first people waiting, in order, each with a "promoted"
    email; stops when places run out or nobody is waiting."""
    await capacity.lock_event(session, event_id)
    event = await _event(session, event_id)
    promoted: list[Registration] = []
    while True:
        first = (
            await session.execute(
                select(Registration)
                .where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.waitlisted,
                )
                .order_by(Registration.waiting_list_number)
                .limit(1)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if first is None:
            break
        if await capacity.claim_place(session, event_id) == capacity.Claim.FULL:
            break
        await _give_claimed_place(
            session,
            clock,
            event,
            first,
            signer=signer,
            actor=SYSTEM,
            action="registration.promoted",
        )
        promoted.append(first)
    return promoted


async def registration_by_token(
    session: AsyncSession, *, token: str, signer: Signer
) -> Registration:
    """The registration behind a management link, with its event."""
    return await _by_token(session, TokenPurpose.manage, token, signer=signer)


async def registration_by_join_token(
    session: AsyncSession, *, token: str, signer: Signer
) -> Registration:
    return await _by_token(session, TokenPurpose.joining, token, signer=signer)


async def registration_by_calendar_token(
    session: AsyncSession, *, token: str, signer: Signer
) -> Registration:
    """The registration behind a private feed link (read only: it cannot cancel)."""
    return await _by_token(session, TokenPurpose.calendar, token, signer=signer)


async def calendar_link_retired(session: AsyncSession, *, token: str, signer: Signer) -> bool:
    """Whether ``token`` is a private feed link whose registration was erased."""
    if not tokens.plausible(token):
        return False
    digest = signer.hash_token(Purpose.CALENDAR, token)
    found = await session.scalar(
        select(RetiredCalendarLink.token_hash).where(RetiredCalendarLink.token_hash == digest)
    )
    return found is not None and signer.matches(Purpose.CALENDAR, token, found)


async def retire_calendar_links(session: AsyncSession, registration_ids: Sequence[int]) -> None:
    """Keep the hashes of these registrations' private feed links, and nothing else about
    them, before their secret links are deleted (erasure): ``calendar_link_retired``."""
    if not registration_ids:
        return
    await session.execute(
        insert(RetiredCalendarLink).from_select(
            ["token_hash"],
            select(RegistrationToken.token_hash).where(
                RegistrationToken.registration_id.in_(registration_ids),
                RegistrationToken.purpose == TokenPurpose.calendar,
            ),
        )
    )


async def cancel(
    session: AsyncSession, clock: Clock, *, token: str, signer: Signer
) -> CancelOutcome:
    """Cancel a place by its management token. Cancelling twice changes nothing and says
    so; a confirmed place freed goes to the first person waiting, in this transaction."""
    found = await registration_by_token(session, token=token, signer=signer)
    await capacity.lock_event(session, found.event_id)
    # Re-read under the lock: a simultaneous cancel of the same place may have won.
    registration = await _locked_registration(session, found.event_id, found.id)
    event = await _event(session, registration.event_id)
    return await cancel_locked(
        session, clock, event=event, registration=registration, actor=MEMBER, signer=signer
    )


async def cancel_locked(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    registration: Registration,
    actor: Actor,
    signer: Signer,
    erasing: bool = False,
) -> CancelOutcome:
    """The one cancellation rule (a member's cancel, an organiser's, an erasure), with the
    event's lock held: the place is cancelled, the cancellation email queued (METHOD:CANCEL
    for a confirmed place), the ``registration.cancelled`` audit row written, and a freed
    confirmed place goes to the first person waiting.

    ``erasing``: the person's data is being erased. Only a confirmed place is told (its
    calendar entry must go); the email's row names no event, so it never shows on the
    organiser's mail page, and keeps neither address nor contents once sent
    (``messages.Cancelled.erased``)."""
    if registration.status == RegistrationStatus.cancelled:
        return CancelOutcome(registration, event, already_cancelled=True)

    before = _state(registration)
    was_confirmed = registration.status == RegistrationStatus.confirmed
    now = clock.now()
    registration.status = RegistrationStatus.cancelled
    registration.cancelled_at = registration.updated_at = now
    await session.flush()
    if was_confirmed or not erasing:
        # One above the event's own: the CANCEL must outrank the REQUEST it answers.
        sequence = await invite_sequence(session, registration, floor=event.ical_sequence + 1)
        await enqueue(
            session,
            clock,
            message=Cancelled(
                **place_fields(registration, event, None, None), erased=erasing, sequence=sequence
            ),
            recipient=registration.email,
            dedupe_key=f"registration:{registration.id}:cancelled",
            event_id=None if erasing else event.id,
        )
    await _audit(
        session,
        clock,
        actor,
        "registration.cancelled",
        registration,
        before=before,
        after=_state(registration),
    )
    promoted: list[Registration] = []
    freed = was_confirmed and await capacity.release_place(session, event.id)
    if freed:
        promoted = await promote_waiting_list(session, clock, event_id=event.id, signer=signer)
    event = await _event(session, event.id)
    return CancelOutcome(
        registration, event, already_cancelled=False, promoted=promoted, place_freed=freed
    )


# Organiser-side operations ---------------------------------------------------------------
#
# Each names the event it acts on (already checked by ``organiser.permissions``) and finds
# the registration within that event only: an id from another event is ``RegistrationMissing``,
# exactly like an id that does not exist. Each takes the event's lock first, as the member's
# paths do, so places, waiting-list numbers and promotions stay in order.


def _state(registration: Registration) -> dict[str, Any]:
    """What the audit log keeps about a registration: its place, never personal data
    beyond what the event's organisers see anyway (no access requirements)."""
    return {
        "status": registration.status,
        "waiting_list_number": registration.waiting_list_number,
        "attended": registration.attended,
    }


async def _audit(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    action: str,
    registration: Registration,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await record(
        session,
        clock,
        actor,
        action,
        event_id=registration.event_id,
        registration_id=registration.id,
        before=before,
        after=after,
    )


def _promoted_key(registration: Registration) -> str:
    return f"registration:{registration.id}:promoted:{registration.waiting_list_number}"


async def _locked_registration(
    session: AsyncSession, event_id: int, registration_id: int
) -> Registration:
    """One registration of this event, locked and current; erased ones are gone."""
    registration = (
        await session.execute(
            select(Registration)
            .where(
                Registration.id == registration_id,
                Registration.event_id == event_id,
                Registration.erased_at.is_(None),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if registration is None:
        raise RegistrationMissing()
    return registration


async def _lock(session: AsyncSession, event: Event) -> Event:
    locked = await capacity.locked_event(session, event_id=event.id)
    if locked is None:
        raise EventNotFound()
    return locked


async def add_by_hand(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    data: RegistrationInput,
    actor: Actor,
    signer: Signer,
    status: str = "auto",
) -> tuple[Registration, bool]:
    """Register someone by hand. The window and the members-only rule do not apply (an
    organiser may add a walk-in or a guest), capacity does: "auto" is a place if one is
    left, else the waiting list if the event has one, else ``EventFull``; "confirmed"
    refuses with ``NoPlaceLeft`` when full; "waitlisted" joins the waiting list. The person
    gets the usual confirmation (or waiting-list) email with their links.

    Returns the registration and whether it is new: an email already registered gets its
    existing registration back (False), never a second place, and nothing changes."""
    if status not in {"auto", "confirmed", "waitlisted"}:
        raise ValueError(f"unknown status {status!r}")
    event = await _lock(session, event)
    if event.status == EventStatus.cancelled:
        raise EventCancelled()
    existing = await _active(session, event.id, data.email)
    if existing is not None:
        return existing, False
    outcome = await _new_registration(
        session, clock, event, data, signer=signer, actor=actor, wanted=status
    )
    assert outcome.registration is not None
    return outcome.registration, True


async def move_to_waiting_list(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    registration_id: int,
    actor: Actor,
    signer: Signer,
) -> Registration:
    """Move a confirmed person to the end of the waiting list (with an email telling them
    where they are). The place they free goes to those already waiting, in order; it is
    never handed straight back to the person moved."""
    event = await _lock(session, event)
    registration = await _locked_registration(session, event.id, registration_id)
    if registration.status != RegistrationStatus.confirmed:
        raise NotConfirmed()
    before = _state(registration)
    # Promote those already waiting before the moved person joins the queue behind them.
    if await capacity.release_place(session, event.id):
        await promote_waiting_list(session, clock, event_id=event.id, signer=signer)
    last, waiting = (await session.execute(_QUEUE, {"event_id": event.id})).one()
    registration.status = RegistrationStatus.waitlisted
    registration.waiting_list_number = (last or 0) + 1
    registration.confirmed_at = None
    registration.updated_at = clock.now()
    await session.flush()
    minted = await mint_links(session, clock, registration, signer=signer)
    await enqueue(
        session,
        clock,
        message=Waitlisted(**place_fields(registration, event, minted, int(waiting) + 1)),
        recipient=registration.email,
        dedupe_key=f"registration:{registration.id}:waitlisted:{registration.waiting_list_number}",
        event_id=event.id,
    )
    await _audit(
        session,
        clock,
        actor,
        "registration.moved_to_waiting_list",
        registration,
        before=before,
        after=_state(registration),
    )
    return registration


async def confirm_from_waiting_list(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    registration_id: int,
    actor: Actor,
    signer: Signer,
) -> Registration:
    """Give someone waiting a place now, whatever their place in the queue, if one is left
    (``NoPlaceLeft`` otherwise: raise the capacity or free a place first). They get the
    usual "you have a place" email with their links."""
    event = await _lock(session, event)
    registration = await _locked_registration(session, event.id, registration_id)
    if registration.status != RegistrationStatus.waitlisted:
        raise NotOnWaitingList()
    if await capacity.claim_place(session, event.id) == capacity.Claim.FULL:
        raise NoPlaceLeft()
    await _give_claimed_place(
        session,
        clock,
        event,
        registration,
        signer=signer,
        actor=actor,
        action="registration.confirmed",
    )
    return registration


async def cancel_by_organiser(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    registration_id: int,
    actor: Actor,
    signer: Signer,
) -> Registration:
    """Cancel someone's place on their behalf, with the same effects as their own cancel:
    the cancellation email and the freed place going to the first person waiting. Already
    cancelled is ``AlreadyCancelled`` (nothing changes)."""
    event = await _lock(session, event)
    registration = await _locked_registration(session, event.id, registration_id)
    if registration.status == RegistrationStatus.cancelled:
        raise AlreadyCancelled()
    outcome = await cancel_locked(
        session, clock, event=event, registration=registration, actor=actor, signer=signer
    )
    return outcome.registration


async def change_capacity(
    session: AsyncSession, clock: Clock, *, event_id: int, capacity_: int | None, signer: Signer
) -> list[Registration]:
    """Set an event's capacity (None: unlimited); places it adds go to the waiting list
    first, in order. Refused below the number already confirmed."""
    if capacity_ is not None and capacity_ < 0:
        raise Conflict("Capacity cannot be negative.", code="capacity_negative")
    if not await capacity.set_capacity(session, event_id, capacity_):
        raise Conflict(
            "More people are already confirmed than that capacity allows.",
            code="capacity_below_confirmed",
        )
    return await promote_waiting_list(session, clock, event_id=event_id, signer=signer)


@dataclass(frozen=True)
class SeriesItem:
    event: Event
    outcome: Outcome | None
    refused: RegistrationRefused | None


def series_needs_membership(sessions: Sequence[Event]) -> bool:
    """One members-only session makes the whole series form ask for a membership number."""
    return any(event.members_only for event in sessions)


def check_series_input(sessions: Sequence[Event], data: RegistrationInput) -> None:
    """``check_input`` for the series form: a membership number when any session asks for one."""
    if series_needs_membership(sessions) and not data.is_valid_membership():
        raise MembershipRequired()


async def register_for_series(
    session: AsyncSession,
    clock: Clock,
    *,
    series_id: int,
    data: RegistrationInput,
    signer: Signer,
) -> tuple[Series, list[SeriesItem]]:
    """Register for every future published session of a series, each on its own terms
    (place, waiting list, or the reason it was refused)."""
    series = await session.get(Series, series_id)
    if series is None:
        raise SeriesNotFound()
    sessions = await bookable_series_sessions(session, series_id, now=clock.now())
    check_series_input(sessions, data)
    items: list[SeriesItem] = []
    for event in sessions:
        try:
            async with session.begin_nested():
                outcome = await register(
                    session, clock, event_id=event.id, data=data, signer=signer
                )
        except RegistrationRefused as refusal:
            items.append(SeriesItem(event=event, outcome=None, refused=refusal))
            continue
        items.append(SeriesItem(event=outcome.event, outcome=outcome, refused=outcome.refused))
    return series, items


# The formats whose places come with a personal joining link.
ONLINE_FORMATS = frozenset({EventFormat.online, EventFormat.hybrid})


@dataclass(frozen=True)
class JoinDecision:
    """Where a personal joining link leads now: ``url`` to redirect to, or the ``reason``
    it does not (in_person, cancelled, event_cancelled, waitlisted, not_yet, finished,
    no_link)."""

    url: str | None
    reason: str
    opens_at: dt.datetime | None = None


def joining_link(
    registration: Registration, event: Event, now: dt.datetime, *, opens_minutes: int
) -> JoinDecision:
    """A personal link redirects to the event's current joining link only for an online or
    hybrid event, while the place is confirmed and the event is on, from ``opens_minutes``
    before the start. An in-person event never offers one, even if a link was left on it
    from before its format changed (issue 13 item 7)."""
    opens_at = event.starts_at - dt.timedelta(minutes=opens_minutes)
    if event.format not in ONLINE_FORMATS:
        return JoinDecision(None, "in_person")
    if event.status == EventStatus.cancelled:
        return JoinDecision(None, "event_cancelled")
    if registration.status == RegistrationStatus.cancelled:
        return JoinDecision(None, "cancelled")
    if registration.status == RegistrationStatus.waitlisted:
        return JoinDecision(None, "waitlisted")
    if event.ends_at <= now:
        return JoinDecision(None, "finished")
    if now < opens_at:
        return JoinDecision(None, "not_yet", opens_at)
    if not event.joining_url:
        return JoinDecision(None, "no_link")
    return JoinDecision(event.joining_url, "open", opens_at)
