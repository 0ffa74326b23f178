"""The organiser dashboard: what is coming up, what needs booking now, and two charts.

Read side only. Everything is limited to the events the organiser manages
(``permissions.manageable``), so an organiser never counts another's registrations.
``registrations_chart`` and ``attendance_chart`` are pure: data in, SVG out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog.models import Event, EventStatus
from events.clock import Clock
from events.organiser.charts import Datum, bar_chart, column_chart
from events.organiser.models import Organiser
from events.organiser.permissions import manageable
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import ACCESS_NEEDS

# Requirements that need someone booked ahead (an interpreter, a captioner).
NEEDS_BOOKING = ("bsl", "live_captions")


@dataclass(frozen=True)
class UpcomingEvent:
    event: Event
    confirmed: int
    waiting: int


@dataclass(frozen=True)
class AccessWarning:
    event: Event
    need: str  # "bsl", "live_captions"
    label: str  # "British Sign Language interpreter"
    count: int  # late requests
    shortest_notice: dt.timedelta  # the latest request, this long before the start

    @property
    def notice_text(self) -> str:
        return notice(self.shortest_notice)


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    count: int


@dataclass(frozen=True)
class Attendance:
    event: Event
    attended: int
    confirmed: int

    @property
    def rate(self) -> int:
        """Attended as a whole percentage of confirmed places."""
        return round(100 * self.attended / self.confirmed) if self.confirmed else 0


@dataclass(frozen=True)
class Dashboard:
    upcoming: list[UpcomingEvent]  # the soonest few
    upcoming_total: int
    warnings: list[AccessWarning]
    per_day: list[DayCount]
    attendance: list[Attendance]
    lead: dt.timedelta


def notice(delta: dt.timedelta) -> str:
    """'3 days', '1 day', '5 hours', 'under an hour' (before the event)."""
    if delta >= dt.timedelta(days=1):
        days = delta.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "under an hour"


async def _counts(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, Counter[str]]:
    found: dict[int, Counter[str]] = defaultdict(Counter)
    if not event_ids:
        return found
    rows = await session.execute(
        select(
            Registration.event_id,
            Registration.status,
            func.count(),
            func.sum(case((Registration.attended.is_(True), 1), else_=0)),
        )
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, count, attended in rows:
        found[event_id][str(status)] += int(count)
        if status == RegistrationStatus.confirmed:
            found[event_id]["attended"] += int(attended or 0)
    return found


async def upcoming_events(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, limit: int = 10
) -> list[UpcomingEvent]:
    """Manageable events not yet over, soonest first, with confirmed and waiting counts."""
    events = list(
        (
            await session.execute(
                select(Event)
                .where(manageable(organiser), Event.ends_at > clock.now())
                .order_by(Event.starts_at, Event.id)
                .limit(limit)
            )
        ).scalars()
    )
    counts = await _counts(session, [e.id for e in events])
    return [
        UpcomingEvent(
            event=e,
            confirmed=counts[e.id][RegistrationStatus.confirmed.value],
            waiting=counts[e.id][RegistrationStatus.waitlisted.value],
        )
        for e in events
    ]


async def count_upcoming(session: AsyncSession, clock: Clock, organiser: Organiser) -> int:
    found = await session.execute(
        select(func.count(Event.id)).where(manageable(organiser), Event.ends_at > clock.now())
    )
    return int(found.scalar_one())


async def access_warnings(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, lead: dt.timedelta
) -> list[AccessWarning]:
    """Requests for an interpreter or captions made less than ``lead`` before an upcoming
    event: the most urgent event first."""
    now = clock.now()
    # A late request for an event starting within ``lead`` was made after start - lead,
    # which is after now - lead: both bounds only narrow the rows read.
    rows = await session.execute(
        select(Event, Registration.created_at, Registration.access_requirements)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            manageable(organiser),
            Event.status != EventStatus.cancelled,
            Event.starts_at > now,
            Event.starts_at <= now + lead,
            Registration.status != RegistrationStatus.cancelled,
            Registration.created_at > now - lead,
        )
    )
    late: dict[tuple[int, str], list[dt.timedelta]] = defaultdict(list)
    events: dict[int, Event] = {}
    for event, created_at, needs in rows:
        ahead = event.starts_at - created_at
        if ahead >= lead:
            continue
        for need in NEEDS_BOOKING:
            if need in (needs or ()):
                late[(event.id, need)].append(ahead)
                events[event.id] = event
    warnings = [
        AccessWarning(
            event=events[event_id],
            need=need,
            label=ACCESS_NEEDS.get(need, need),
            count=len(aheads),
            shortest_notice=min(aheads),
        )
        for (event_id, need), aheads in late.items()
    ]
    warnings.sort(key=lambda w: (w.event.starts_at, w.event.id, NEEDS_BOOKING.index(w.need)))
    return warnings


async def registrations_per_day(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, zone: str, days: int = 30
) -> list[DayCount]:
    """Registrations made each day (in ``zone``) over the last ``days`` days, today last,
    for the organiser's events; days without any are there with 0."""
    tz = ZoneInfo(zone)
    today = clock.now().astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    rows = await session.execute(
        select(Registration.created_at)
        .join(Event, Event.id == Registration.event_id)
        .where(manageable(organiser), Registration.created_at >= since)
    )
    per_day = Counter(created.astimezone(tz).date() for (created,) in rows)
    return [
        DayCount(day=first + dt.timedelta(days=i), count=per_day[first + dt.timedelta(days=i)])
        for i in range(days)
    ]


async def attendance(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, limit: int = 10
) -> list[Attendance]:
    """Attended / confirmed for the most recent past events that had confirmed places."""
    events = list(
        (
            await session.execute(
                select(Event)
                .where(
                    manageable(organiser),
                    Event.ends_at <= clock.now(),
                    Event.status != EventStatus.cancelled,
                )
                .order_by(Event.starts_at.desc(), Event.id.desc())
                .limit(limit * 3)
            )
        ).scalars()
    )
    counts = await _counts(session, [e.id for e in events])
    found = [
        Attendance(
            event=e,
            attended=counts[e.id]["attended"],
            confirmed=counts[e.id][RegistrationStatus.confirmed.value],
        )
        for e in events
        if counts[e.id][RegistrationStatus.confirmed.value]
    ]
    return found[:limit]


async def dashboard(
    session: AsyncSession,
    clock: Clock,
    organiser: Organiser,
    *,
    zone: str,
    lead: dt.timedelta,
) -> Dashboard:
    return Dashboard(
        upcoming=await upcoming_events(session, clock, organiser),
        upcoming_total=await count_upcoming(session, clock, organiser),
        warnings=await access_warnings(session, clock, organiser, lead=lead),
        per_day=await registrations_per_day(session, clock, organiser, zone=zone),
        attendance=await attendance(session, clock, organiser),
        lead=lead,
    )


# Charts (pure) ---------------------------------------------------------------------------


def short_day(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def long_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def registrations_chart(per_day: Sequence[DayCount]) -> Markup:
    total = sum(d.count for d in per_day)
    if per_day:
        busiest = max(per_day, key=lambda d: (d.count, d.day))
        span = f"from {long_day(per_day[0].day)} to {long_day(per_day[-1].day)}"
        summary = f"{total} registration{'s' if total != 1 else ''} {span}." + (
            f" The busiest day was {long_day(busiest.day)}, with {busiest.count}."
            if busiest.count
            else ""
        )
    else:
        summary = "No days to show."
    return column_chart(
        [Datum(short_day(d.day), d.count, str(d.count)) for d in per_day],
        chart_id="chart-registrations",
        title=f"Registrations per day, last {len(per_day)} days",
        description=summary,
    )


def attendance_chart(rows: Sequence[Attendance]) -> Markup:
    if rows:
        parts = [f"{r.event.title}: {r.rate}% ({r.attended} of {r.confirmed})" for r in rows]
        summary = "Share of confirmed people who attended. " + "; ".join(parts) + "."
    else:
        summary = "No past events with confirmed places yet."
    return bar_chart(
        [Datum(r.event.title, r.rate, f"{r.rate}%") for r in rows],
        chart_id="chart-attendance",
        title="Attendance rate per past event",
        description=summary,
    )
