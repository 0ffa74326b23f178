"""Attendance for one event, as its organisers see it: counts, the access-requirements
summary, the list of registrations (search, filters, sort, pages), marking who attended
(one by one, in bulk, or from a webinar platform's attendance report), the audience of a
message, and the event's outgoing mail.

Every function takes an event already checked by ``organiser.permissions.managed_event``
and looks registrations up within that event only: an id from another event changes
nothing, exactly like an id that does not exist.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.audit.service import Actor, record
from events.catalog.models import Event
from events.clock import Clock
from events.errors import InvalidInput
from events.kit.formatting import local_date, local_time
from events.kit.ids import parse_number
from events.mail.models import OutboxMessage
from events.organiser.errors import EventNotStarted, NotConfirmed
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import ACCESS_NEEDS, normalise_email

# Counts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    capacity: int | None
    places_left: int | None
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    # Registrations whose access requirements the retention job has removed (not blanks:
    # the organiser is told they were purged, and when).
    access_purged: int = 0
    access_purged_on: dt.datetime | None = None
    # Erased people still count (anonymously) in the figures above; none is listed.
    erased: int = 0

    @property
    def active(self) -> int:
        return self.confirmed + self.waitlisted


async def counts(session: AsyncSession, event: Event) -> Counts:
    """The event's numbers, in one statement. Erased registrations count (status and
    attendance are all that is left of them: anonymous counts)."""
    status = Registration.status
    row = (
        await session.execute(
            select(
                func.count().filter(status == RegistrationStatus.confirmed),
                func.count().filter(status == RegistrationStatus.waitlisted),
                func.count().filter(status == RegistrationStatus.cancelled),
                func.count().filter(
                    Registration.attended.is_(True), status != RegistrationStatus.cancelled
                ),
                func.count().filter(
                    Registration.access_purged_at.is_not(None), Registration.erased_at.is_(None)
                ),
                func.min(Registration.access_purged_at),
                func.count().filter(Registration.erased_at.is_not(None)),
            ).where(Registration.event_id == event.id)
        )
    ).one()
    return Counts(
        capacity=event.capacity,
        places_left=event.places_left,
        confirmed=int(row[0]),
        waitlisted=int(row[1]),
        cancelled=int(row[2]),
        attended=int(row[3]),
        access_purged=int(row[4]),
        access_purged_on=row[5],
        erased=int(row[6]),
    )


# Access requirements ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccessNeed:
    code: str
    label: str
    people: Sequence[Registration]


async def access_summary(session: AsyncSession, event: Event) -> list[AccessNeed]:
    """Each access requirement asked for by someone confirmed or waiting, with the people
    behind it (by name), most asked-for first. Special category data: only for pages the
    permission check has already let through."""
    rows = (
        await session.execute(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status != RegistrationStatus.cancelled,
                Registration.erased_at.is_(None),
                Registration.access_purged_at.is_(None),
            )
            .order_by(Registration.name, Registration.id)
        )
    ).scalars()
    people: dict[str, list[Registration]] = {}
    for registration in rows:
        for code in registration.access_requirements or ():
            people.setdefault(code, []).append(registration)
    order = list(ACCESS_NEEDS)
    needs = [
        AccessNeed(code, ACCESS_NEEDS.get(code, code), tuple(found))
        for code, found in people.items()
    ]
    needs.sort(key=lambda n: (-len(n.people), order.index(n.code) if n.code in order else 99))
    return needs


# Listing ---------------------------------------------------------------------------------

Sort = Literal["name", "-name", "date", "-date"]
SORTS: tuple[Sort, ...] = ("name", "-name", "date", "-date")
PER_PAGE = 50


@dataclass(frozen=True)
class ListingFilters:
    """What the registrations list shows; parsed from the query string, never trusted."""

    search: str = ""
    status: RegistrationStatus | None = None
    attended: bool | None = None
    sort: Sort = "date"
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> ListingFilters:
        # A lone surrogate (no real request carries one: query values are decoded with
        # replacement) would match nothing and could not be written back into a link.
        text = query.get("q", "").encode("utf-8", "replace").decode("utf-8")
        search = " ".join(text.split())[:200]
        status_text = query.get("status", "")
        status = (
            RegistrationStatus(status_text)
            if status_text in {s.value for s in RegistrationStatus}
            else None
        )
        attended = {"yes": True, "no": False}.get(query.get("attended", ""))
        sort_text = query.get("sort", "date")
        sort: Sort = next((s for s in SORTS if s == sort_text), "date")
        page_text = query.get("page", "1")
        page = parse_number(page_text) or 1
        return cls(search=search, status=status, attended=attended, sort=sort, page=max(page, 1))

    def query_string(self, **overrides: object) -> str:
        from urllib.parse import urlencode

        values: dict[str, object] = {
            "q": self.search,
            "status": self.status.value if self.status else "",
            "attended": {True: "yes", False: "no", None: ""}[self.attended],
            "sort": self.sort,
            "page": self.page,
        }
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass(frozen=True)
class RegistrationPage:
    items: Sequence[Registration]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(event: Event, filters: ListingFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Registration.event_id == event.id,
        Registration.erased_at.is_(None),
    ]
    if filters.search:
        pattern = _like(filters.search)
        where.append(
            func.lower(Registration.name).like(pattern, escape="\\")
            | Registration.email.like(pattern, escape="\\")
        )
    if filters.status is not None:
        where.append(Registration.status == filters.status)
    if filters.attended is not None:
        where.append(Registration.attended.is_(filters.attended))
    return where


async def registrations_page(
    session: AsyncSession, event: Event, filters: ListingFilters, *, per_page: int = PER_PAGE
) -> RegistrationPage:
    """One page of the event's registrations, searched (name or email, any case), filtered
    (status, attended), sorted (name or registration date, either way; ties by id)."""
    where = _conditions(event, filters)
    total = int(
        (await session.execute(select(func.count(Registration.id)).where(*where))).scalar_one()
    )
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    key = {
        "name": (func.lower(Registration.name).asc(), Registration.id.asc()),
        "-name": (func.lower(Registration.name).desc(), Registration.id.desc()),
        "date": (Registration.created_at.asc(), Registration.id.asc()),
        "-date": (Registration.created_at.desc(), Registration.id.desc()),
    }[filters.sort]
    items = (
        (
            await session.execute(
                select(Registration)
                .where(*where)
                .order_by(*key)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
        .scalars()
        .all()
    )
    return RegistrationPage(items=items, total=total, page=page, per_page=per_page)


async def registration_in(
    session: AsyncSession, event: Event, registration_id: int
) -> Registration | None:
    """One registration of this event (None for another event's id or a missing one)."""
    return (
        await session.execute(
            select(Registration).where(
                Registration.id == registration_id,
                Registration.event_id == event.id,
                Registration.erased_at.is_(None),
            )
        )
    ).scalar_one_or_none()


async def sign_in_sheet(session: AsyncSession, event: Event) -> Sequence[Registration]:
    """Everyone with a confirmed place, by name: the rows of the printed sign-in sheet."""
    return (
        (
            await session.execute(
                select(Registration)
                .where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus.confirmed,
                    Registration.erased_at.is_(None),
                )
                .order_by(func.lower(Registration.name), Registration.id)
            )
        )
        .scalars()
        .all()
    )


async def audience_size(session: AsyncSession, event: Event, audience: str) -> int:
    """How many a message to "confirmed" or "waitlisted" would reach."""
    return int(
        (
            await session.execute(
                select(func.count(Registration.id)).where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus(audience),
                    Registration.erased_at.is_(None),
                )
            )
        ).scalar_one()
    )


# Marking attendance ----------------------------------------------------------------------


async def _mark(
    session: AsyncSession,
    clock: Clock,
    registrations: Iterable[Registration],
    attended: bool,
    actor: Actor,
    *,
    source: str,
) -> int:
    changed = 0
    now = clock.now()
    for registration in registrations:
        if registration.attended == attended:
            continue
        registration.attended = attended
        registration.updated_at = now
        changed += 1
        await record(
            session,
            clock,
            actor,
            "registration.attended" if attended else "registration.not_attended",
            event_id=registration.event_id,
            registration_id=registration.id,
            before={"attended": not attended},
            after={"attended": attended, "source": source},
        )
    await session.flush()
    return changed


def attendance_open(event: Event, now: dt.datetime) -> bool:
    """Whether people can be marked as attended yet: once the event has started."""
    return now >= event.starts_at


def _refuse_before_start(event: Event, now: dt.datetime) -> None:
    if not attendance_open(event, now):
        zone = event.timezone
        raise EventNotStarted(
            f"{local_date(event.starts_at, zone)}, {local_time(event.starts_at, zone)}"
        )


def _why_not(registration: Registration) -> str:
    who = f"{registration.name or 'someone'} (registration {registration.id})"
    if registration.status == RegistrationStatus.waitlisted:
        return f"{who} is on the waiting list"
    return f"{who} has cancelled"


async def set_attended(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    registration_ids: Sequence[int],
    attended: bool,
    actor: Actor,
) -> int:
    """Mark these registrations of this event as attended (or not). Returns how many
    changed. Ids of other events and erased registrations are left alone, exactly like ids
    that do not exist.

    Marking attended is refused (``AttendanceRefused``, nothing changed) before the event
    starts, and when anyone selected has no confirmed place (waiting or cancelled), naming
    them. Marking *not* attended is always allowed (it corrects a mistake); cancelled
    registrations are left alone."""
    if not registration_ids:
        return 0
    if attended:
        _refuse_before_start(event, clock.now())
    rows = (
        (
            await session.execute(
                select(Registration)
                .where(
                    Registration.event_id == event.id,
                    Registration.id.in_(set(registration_ids)),
                    Registration.erased_at.is_(None),
                )
                .order_by(Registration.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    if attended:
        refused = [r for r in rows if r.status != RegistrationStatus.confirmed]
        if refused:
            raise NotConfirmed([_why_not(r) for r in refused])
    else:
        rows = [r for r in rows if r.status != RegistrationStatus.cancelled]
    return await _mark(session, clock, rows, attended, actor, source="console")


# Importing a webinar platform's attendance report ------------------------------------------

IMPORT_LIMIT = 5 * 1024 * 1024  # bytes: a report of tens of thousands of rows fits easily

# Column names as Zoom and Microsoft Teams export them (compared in lower case).
EMAIL_COLUMNS = (
    "user email",
    "email",
    "email address",
    "e-mail",
    "attendee email",
    "participant email",
    "registrant email",
)
NAME_COLUMNS = (
    "name (original name)",
    "name",
    "full name",
    "participant",
    "participant name",
    "attendee name",
    "user name",
    "display name",
)
JOIN_COLUMNS = ("join time", "first join", "first join time", "joined", "join")
LEAVE_COLUMNS = ("leave time", "last leave", "last leave time", "left", "leave")
_LOOKS_LIKE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ImportRow:
    line: int
    name: str
    email: str
    joined: str = ""
    left: str = ""


@dataclass(frozen=True)
class MalformedRow:
    line: int
    reason: str
    text: str = ""


@dataclass
class ImportReport:
    """What an import did: rows that matched a registration (``newly_marked`` of them
    changed), rows whose email matched nobody, and rows that could not be read."""

    matched: list[ImportRow] = field(default_factory=list)
    unmatched: list[ImportRow] = field(default_factory=list)
    malformed: list[MalformedRow] = field(default_factory=list)
    newly_marked: int = 0
    people_matched: int = 0
    # Rows about a cancelled registration: recognised, not marked.
    cancelled: list[ImportRow] = field(default_factory=list)
    # Rows about someone still on the waiting list: recognised, not marked (only people
    # with a confirmed place can have attended).
    waiting: list[ImportRow] = field(default_factory=list)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 (Teams) by its BOM or by its zero bytes; a
    file that looks like UTF-16 but is not (an odd length, a broken pair) is refused."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        sample = data[:200]
        if sample and sample.count(0) > len(sample) // 4:
            # UTF-16 without a BOM: ASCII text has a zero byte in every other position.
            return data.decode("utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be")
    except UnicodeDecodeError:
        raise InvalidInput(
            {
                "file": "This file's text could not be read. Save the report as CSV "
                "(UTF-8 or UTF-16) and import it again."
            }
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [" ".join(h.strip().strip('"').lower().split()) for h in header]
    for name in names:
        if name in cleaned:
            return cleaned.index(name)
    return None


def _header(
    cells: list[str], *, strict: bool
) -> tuple[int, int | None, int | None, int | None] | None:
    """Column positions (email, name, join, leave) when this row is a table's header.
    Strict: a name or join column too, so that Zoom's meeting summary above the table
    (its host's "User Email", but no "Name" or "Join Time") is not taken for it."""
    email = _find(cells, EMAIL_COLUMNS)
    if email is None:
        return None
    name, join = _find(cells, NAME_COLUMNS), _find(cells, JOIN_COLUMNS)
    if strict and name is None and join is None:
        return None
    return email, name, join, _find(cells, LEAVE_COLUMNS)


def parse_report(data: bytes) -> tuple[list[ImportRow], list[MalformedRow]]:
    """The rows of an attendance report: lines before the table (a meeting summary) are
    skipped, a later header row (Teams' "In-meeting activities" table) starts a new table,
    blank lines and section titles are ignored. Raises ``InvalidInput`` (field ``file``)
    when there is nothing to read."""
    if not data.strip():
        raise InvalidInput({"file": "The file is empty. Choose the attendance report to import."})
    if len(data) > IMPORT_LIMIT:
        raise InvalidInput(
            {"file": f"The file is larger than {IMPORT_LIMIT // (1024 * 1024)} MB. Split it."}
        )
    text = _decode(data).replace("\x00", "")
    first_lines = text[:4096]
    delimiter = "\t" if first_lines.count("\t") > first_lines.count(",") else ","
    rows, malformed, found = _read(text, delimiter, strict=True)
    if not found:
        # A plain list with just an "Email" column (or "Email" and a date) is fine too.
        rows, malformed, found = _read(text, delimiter, strict=False)
    if not found:
        raise InvalidInput(
            {
                "file": "We could not find an email column in this file. Import the attendance "
                "or participants report (CSV) as your webinar platform exports it, with a "
                "column such as “User Email” (Zoom) or “Email” (Teams)."
            }
        )
    return rows, malformed


def _read(
    text: str, delimiter: str, *, strict: bool
) -> tuple[list[ImportRow], list[MalformedRow], bool]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: tuple[int, int | None, int | None, int | None] | None = None
    rows: list[ImportRow] = []
    malformed: list[MalformedRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            found = _header(cells, strict=strict)
            if found is not None:
                columns = found
                continue
            if columns is None or not any(c.strip() for c in cells):
                continue
            email_at, name_at, join_at, leave_at = columns

            def cell(at: int | None, cells: list[str] = cells) -> str:
                return cells[at].strip() if at is not None and at < len(cells) else ""

            filled = [c for c in cells if c.strip()]
            email = normalise_email(cell(email_at))
            if not email:
                if len(filled) == 1 and "@" not in filled[0]:
                    continue  # a section title such as "3. In-Meeting Activities"
                malformed.append(
                    MalformedRow(line, "No email address in this row.", delimiter.join(cells))
                )
                continue
            if not _LOOKS_LIKE_EMAIL.match(email):
                malformed.append(
                    MalformedRow(
                        line, f"“{email[:80]}” is not an email address.", delimiter.join(cells)
                    )
                )
                continue
            rows.append(
                ImportRow(line, cell(name_at)[:200], email, cell(join_at)[:40], cell(leave_at)[:40])
            )
    except csv.Error as exc:
        malformed.append(MalformedRow(reader.line_num, f"The file could not be read here: {exc}."))
    return rows, malformed, columns is not None


async def import_attendance(
    session: AsyncSession, clock: Clock, *, event: Event, csv_bytes: bytes, actor: Actor
) -> ImportReport:
    """Mark as attended everyone in a webinar platform's attendance report whose email
    (any case) matches a registration of this event; report the rows that matched nobody
    and the rows that could not be read, each with its line number. Running it twice
    marks nothing new. Only confirmed registrations are marked (rows about people waiting
    or cancelled are reported apart), and only once the event has started: before, the
    whole import is refused (``EventNotStarted``)."""
    _refuse_before_start(event, clock.now())
    rows, malformed = parse_report(csv_bytes)
    report = ImportReport(malformed=malformed)
    emails = {row.email for row in rows}
    registrations: dict[str, Registration] = {}
    cancelled: set[str] = set()
    waiting: set[str] = set()
    for chunk_start in range(0, len(emails), 500):
        chunk = sorted(emails)[chunk_start : chunk_start + 500]
        found = (
            (
                await session.execute(
                    select(Registration)
                    .where(
                        Registration.event_id == event.id,
                        Registration.email.in_(chunk),
                        Registration.erased_at.is_(None),
                    )
                    .order_by(Registration.id)
                    .with_for_update()
                )
            )
            .scalars()
            .all()
        )
        for registration in found:
            if registration.status == RegistrationStatus.cancelled:
                cancelled.add(registration.email)
            elif registration.status == RegistrationStatus.waitlisted:
                waiting.add(registration.email)
            else:
                registrations[registration.email] = registration
    for row in rows:
        if row.email in registrations:
            report.matched.append(row)
        elif row.email in waiting:
            report.waiting.append(row)
        elif row.email in cancelled:
            report.cancelled.append(row)
        else:
            report.unmatched.append(row)
    report.people_matched = len(registrations)
    report.newly_marked = await _mark(
        session, clock, registrations.values(), True, actor, source="import"
    )
    return report


# Outgoing mail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MailPage:
    items: Sequence[OutboxMessage]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def event_mail(
    session: AsyncSession, event: Event, *, page: int = 1, per_page: int = 50
) -> MailPage:
    """The event's outbox rows, newest first."""
    where = OutboxMessage.event_id == event.id
    total = int(
        (await session.execute(select(func.count(OutboxMessage.id)).where(where))).scalar_one()
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = (
        (
            await session.execute(
                select(OutboxMessage)
                .where(where)
                .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
        .scalars()
        .all()
    )
    return MailPage(items=items, total=total, page=page, per_page=per_page)
