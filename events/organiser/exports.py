"""Registration exports, CSV and XLSX, streamed: 100,000 rows never sit in memory.

Rows are read in keyset pages (``PAGE`` at a time, by id), each page in its own short read
session from the sessionmaker handed in, so a slow download holds no connection or
transaction between pages. The permission check happens before, in the caller's unit of
work (``organiser.permissions.managed_event``).

Spreadsheet formula injection (OWASP "CSV Injection"): a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with a single quote in both formats,
and XLSX cells are always written as strings, never as formulas.

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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.catalog.models import Event
from events.db import unit_of_work
from events.registration.models import Registration
from events.registration.schemas import ACCESS_NEEDS, ROLES, SETTINGS

PAGE = 1000
CHUNK = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = (
    "Registration ID",
    "Name",
    "Email",
    "Status",
    "Waiting list number",
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


def _when(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def row_of(registration: Any, zone: ZoneInfo) -> list[str]:
    """One registration (a ``Registration`` or a row of its columns) as text cells,
    neutralised, in ``HEADER``'s order; times in the event's own zone."""
    access = "; ".join(ACCESS_NEEDS.get(c, c) for c in registration.access_requirements or ())
    if registration.access_purged_at is not None:
        access = "purged after the event"
    cells = [
        str(registration.id),
        registration.name,
        registration.email,
        registration.status.value,
        str(registration.waiting_list_number or ""),
        registration.membership_number,
        ROLES.get(registration.role, registration.role),
        SETTINGS.get(registration.setting, registration.setting),
        access,
        registration.access_details,
        "yes" if registration.attended else "no",
        _when(registration.created_at, zone),
        _when(registration.confirmed_at, zone),
        _when(registration.cancelled_at, zone),
    ]
    return [neutralise(cell) for cell in cells]


# Columns, not ORM objects: several times faster to load, and nothing kept in the session.
_COLUMNS = (
    Registration.id,
    Registration.name,
    Registration.email,
    Registration.status,
    Registration.waiting_list_number,
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
    while True:
        async with unit_of_work(sessions) as session:
            batch = (
                await session.execute(
                    select(*_COLUMNS)
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
        for col, title in enumerate(HEADER):
            sheet.write_string(0, col, title, bold)
        sheet.freeze_panes(1, 0)
        next_row = 1

        def write(rows: list[list[str]], first: int) -> None:
            for offset, cells in enumerate(rows):
                for col, value in enumerate(cells):
                    sheet.write_string(first + offset, col, value)

        async for batch in _pages(sessions, event.id, page):
            rows = [row_of(r, zone) for r in batch]
            await anyio.to_thread.run_sync(write, rows, next_row)
            next_row += len(rows)
        await anyio.to_thread.run_sync(workbook.close)
        with open(path, "rb") as file:  # noqa: ASYNC230 - small blocking reads, by chunk
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
