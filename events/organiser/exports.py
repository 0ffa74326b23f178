"""Registration exports, CSV and XLSX, streamed: 100,000 rows never sit in memory.

Rows are read in keyset pages (``PAGE`` at a time, by id), each page in its own short read
session from the sessionmaker handed in, so a slow download holds no connection or
transaction between pages. The permission check happens before, in the caller's unit of
work (``organiser.permissions.managed_event``).

Spreadsheet formula injection (OWASP "CSV Injection"): a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote in both
formats, and XLSX text cells are always written as strings, never as formulas. In the XLSX,
numbers (the registration id, the place on the waiting list) are number cells and times are
real Excel date cells (local time, shown as ``yyyy-mm-dd hh:mm``), so they sort and filter
as such; the CSV writes them as text.

The waiting-list column is the person's place in line now (1 for the next to be offered a
place), counted over the event's whole waiting list as each page is read, never the number
they were given on joining; empty for anyone not waiting.

CSV: UTF-8 with a BOM, so Excel reads accents right. XLSX: xlsxwriter in
``constant_memory`` mode writes each row to a temporary file as it comes (in a worker
thread, so the event loop keeps serving), then the finished file is sent in chunks and
deleted.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
import xlsxwriter  # type: ignore[import-untyped]  # no stubs published
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.catalog.models import Event
from events.db import unit_of_work
from events.registration.models import Registration, RegistrationStatus
from events.registration.schemas import ACCESS_NEEDS, ROLES, SETTINGS

PAGE = 1000
CHUNK = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = (
    "Registration ID",
    "Name",
    "Email",
    "Status",
    "Place on waiting list",
    "Membership number",
    "Role",
    "Setting",
    "Access requirements",
    "Access details",
    "Attended",
    "Registered at",
    "Confirmed at",
    "Cancelled at",
)

SessionFactory = async_sessionmaker[AsyncSession]


def neutralise(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A time in the event's zone, without the zone (spreadsheets know none)."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


Cell = str | int | dt.datetime | None


def values_of(registration: Any, zone: ZoneInfo) -> list[Cell]:
    """One registration (a row of ``_COLUMNS`` and its ``waiting_position``) as typed
    cells in ``HEADER``'s order: text neutralised, numbers as ``int``, times as local
    ``datetime``, nothing as None."""
    access = "; ".join(ACCESS_NEEDS.get(c, c) for c in registration.access_requirements or ())
    if registration.access_purged_at is not None:
        access = "purged after the event"
    texts = [
        registration.name,
        registration.email,
        registration.status.value,
    ]
    more = [
        registration.membership_number,
        ROLES.get(registration.role, registration.role),
        SETTINGS.get(registration.setting, registration.setting),
        access,
        registration.access_details,
        "yes" if registration.attended else "no",
    ]
    return [
        int(registration.id),
        *(neutralise(t) for t in texts),
        registration.waiting_position,
        *(neutralise(t) for t in more),
        _local(registration.created_at, zone),
        _local(registration.confirmed_at, zone),
        _local(registration.cancelled_at, zone),
    ]


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.strftime("%Y-%m-%d %H:%M")
    return str(cell)


def row_of(registration: Any, zone: ZoneInfo) -> list[str]:
    """The same cells as text (the CSV's), neutralised; times in the event's own zone."""
    return [_text(cell) for cell in values_of(registration, zone)]


# Columns, not ORM objects: several times faster to load, and nothing kept in the session.
_COLUMNS = (
    Registration.id,
    Registration.name,
    Registration.email,
    Registration.status,
    Registration.membership_number,
    Registration.role,
    Registration.setting,
    Registration.access_requirements,
    Registration.access_details,
    Registration.access_purged_at,
    Registration.attended,
    Registration.created_at,
    Registration.confirmed_at,
    Registration.cancelled_at,
)


async def _pages(
    sessions: SessionFactory, event_id: int, page: int
) -> AsyncIterator[Sequence[Any]]:
    """The event's registrations (erased ones left out) by id, ``page`` at a time, each
    page read in its own short transaction."""
    after = 0
    # Each waiting person's place in line now: their rank among those still waiting.
    waiting = (
        select(
            Registration.id.label("id"),
            func.row_number()
            .over(order_by=(Registration.waiting_list_number, Registration.id))
            .label("position"),
        )
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.waitlisted,
        )
        .subquery()
    )
    while True:
        async with unit_of_work(sessions) as session:
            batch = (
                await session.execute(
                    select(*_COLUMNS, waiting.c.position.label("waiting_position"))
                    .outerjoin(waiting, waiting.c.id == Registration.id)
                    .where(
                        Registration.event_id == event_id,
                        Registration.id > after,
                        Registration.erased_at.is_(None),
                    )
                    .order_by(Registration.id)
                    .limit(page)
                )
            ).all()
        if not batch:
            return
        yield batch
        after = batch[-1].id
        if len(batch) < page:
            return


def filename(event: Event, extension: str) -> str:
    return f"{event.slug}-registrations.{extension}"


async def csv_stream(
    sessions: SessionFactory, event: Event, *, page: int = PAGE
) -> AsyncIterator[bytes]:
    """The CSV, a page of rows per chunk."""
    zone = ZoneInfo(event.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    async for batch in _pages(sessions, event.id, page):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(row_of(r, zone) for r in batch)
        yield buffer.getvalue().encode("utf-8")


async def xlsx_stream(
    sessions: SessionFactory, event: Event, *, page: int = PAGE
) -> AsyncIterator[bytes]:
    """The XLSX, written row by row to a temporary file, then sent in chunks."""
    zone = ZoneInfo(event.timezone)
    handle, path = tempfile.mkstemp(prefix="events-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet("Registrations")
        bold = workbook.add_format({"bold": True})
        moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for col, title in enumerate(HEADER):
            sheet.write_string(0, col, title, bold)
        for col, title in enumerate(HEADER):
            if title.endswith(" at"):
                sheet.set_column(col, col, 16)
        sheet.freeze_panes(1, 0)
        next_row = 1

        def write(rows: list[list[Cell]], first: int) -> None:
            for offset, cells in enumerate(rows):
                for col, value in enumerate(cells):
                    if value is None:
                        continue  # an empty cell
                    if isinstance(value, dt.datetime):
                        sheet.write_datetime(first + offset, col, value, moment)
                    elif isinstance(value, int):
                        sheet.write_number(first + offset, col, value)
                    else:
                        sheet.write_string(first + offset, col, value)

        async for batch in _pages(sessions, event.id, page):
            rows = [values_of(r, zone) for r in batch]
            await anyio.to_thread.run_sync(write, rows, next_row)
            next_row += len(rows)
        await anyio.to_thread.run_sync(workbook.close)
        with open(path, "rb") as file:  # noqa: ASYNC230 - small blocking reads, by chunk
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
