"""Importing a webinar platform's attendance report: Zoom CSV (with its meeting summary
above the table), Teams UTF-16 tab-separated (with sections), matching by email in any
case, rows that match nobody, malformed rows, and files that cannot be used."""

from __future__ import annotations

import codecs
import datetime as dt
import re

import httpx
import pytest

from events.audit.service import Actor
from events.catalog.models import Event
from events.clock import FrozenClock
from events.db import Database, unit_of_work
from events.errors import InvalidInput
from events.organiser import attendance
from events.organiser.models import Organiser
from events.registration.models import RegistrationStatus
from tests.factories import Factory, register
from tests.organiser.helpers import give_event
from tests.registration.helpers import csrf_token, registrations

ZOOM = (
    "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
    "812 3456 7890,SEND webinar,03/09/2026 06:00:00 PM,03/09/2026 07:05:00 PM,"
    "host@union.example,65,5\r\n"
    "\r\n"
    "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n"
    "Ann Signer,ANN@Example.org,03/09/2026 06:01:02 PM,03/09/2026 06:30:00 PM,29,No\r\n"
    "Ann Signer,ann@example.org,03/09/2026 06:32:00 PM,03/09/2026 07:00:00 PM,28,No\r\n"
    "Stranger Danger,stranger@example.org,03/09/2026 06:05:00 PM,03/09/2026 06:10:00 PM,5,Yes\r\n"
    "Phone Caller,,03/09/2026 06:07:00 PM,03/09/2026 06:50:00 PM,43,Yes\r\n"
    "Typo Person,bob(at)example.org,03/09/2026 06:08:00 PM,03/09/2026 06:50:00 PM,42,Yes\r\n"
    '"Cy, the Waiting",cy@example.org,03/09/2026 06:09:00 PM,03/09/2026 06:59:00 PM,50,No\r\n'
    "Di Gone,di@example.org,03/09/2026 06:09:00 PM,03/09/2026 06:59:00 PM,50,No\r\n"
)

TEAMS = (
    "1. Summary\n"
    "Meeting title\tSEND webinar\n"
    "Attended participants\t3\n"
    "Start time\t3/9/26, 6:00:12 PM\n"
    "\n"
    "2. Participants\n"
    "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole\n"
    "Bob Reader\t3/9/26, 6:01:02 PM\t3/9/26, 7:00:00 PM\t59m\t"
    "Bob@Example.org\tbob@example.org\tAttendee\n"
    "Zoë Ünïcode\t3/9/26, 6:02:00 PM\t3/9/26, 7:00:00 PM\t58m\t"
    "zoe@example.org\tzoe@example.org\tAttendee\n"
    "Someone Else\t3/9/26, 6:03:00 PM\t3/9/26, 6:20:00 PM\t17m\telse@example.org\t\tAttendee\n"
    "\n"
    "3. In-Meeting Activities\n"
    "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole\n"
    "Bob Reader\t3/9/26, 6:01:02 PM\t3/9/26, 7:00:00 PM\t59m\tbob@example.org\tAttendee\n"
)


async def _event(make: Factory, database: Database, organiser: Organiser) -> Event:
    event = await make.event(
        capacity=3, waiting_list_enabled=True, starts_at=make.clock.now() + dt.timedelta(hours=1)
    )
    await give_event(database, event, organiser)
    for email, name in [
        ("ann@example.org", "Ann Signer"),
        ("bob@example.org", "Bob Reader"),
        ("zoe@example.org", "Zoë Ünïcode"),
        ("cy@example.org", "Cy Waiting"),
        ("di@example.org", "Di Gone"),
    ]:
        await register(make, event, email, name=name)
    make.clock.advance(dt.timedelta(hours=2))  # the webinar has happened: its report is in
    return event


async def _cancel_di(database: Database, clock: FrozenClock, event: Event, who: Organiser) -> None:
    from events.registration import service
    from tests.factories import TEST_SIGNER

    di = next(r for r in await registrations(database, event.id) if r.email == "di@example.org")
    async with unit_of_work(database.writer) as session:
        await service.cancel_by_organiser(
            session,
            clock,
            event=event,
            registration_id=di.id,
            actor=Actor.of(who),
            signer=TEST_SIGNER,
        )


async def _attended(database: Database, event: Event) -> set[str]:
    return {r.email for r in await registrations(database, event.id) if r.attended}


async def _import(
    database: Database, clock: FrozenClock, event: Event, who: Organiser, data: bytes
) -> attendance.ImportReport:
    async with unit_of_work(database.writer) as session:
        return await attendance.import_attendance(
            session, clock, event=event, csv_bytes=data, actor=Actor.of(who)
        )


async def test_zoom_report_marks_matches_and_reports_unmatched_and_malformed_rows(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _event(make, database, organiser)
    await _cancel_di(database, clock, event, organiser)
    # Cy is on the waiting list, Di cancelled: only confirmed places can have attended.
    report = await _import(database, clock, event, organiser, ZOOM.encode("utf-8"))
    assert await _attended(database, event) == {"ann@example.org"}
    assert report.people_matched == 1 and report.newly_marked == 1
    assert [(r.line, r.email) for r in report.matched] == [
        (5, "ann@example.org"),
        (6, "ann@example.org"),
    ]
    assert [(r.line, r.email) for r in report.waiting] == [(10, "cy@example.org")]
    assert [(r.line, r.name, r.email) for r in report.unmatched] == [
        (7, "Stranger Danger", "stranger@example.org")
    ]
    assert [(r.line, r.email) for r in report.cancelled] == [(11, "di@example.org")]
    assert [(m.line, m.reason) for m in report.malformed] == [
        (8, "No email address in this row."),
        (9, "“bob(at)example.org” is not an email address."),
    ]
    # The meeting's host in Zoom's summary line is not a participant row.
    assert "host@union.example" not in {r.email for r in report.unmatched}
    again = await _import(database, clock, event, organiser, ZOOM.encode("utf-8"))
    assert again.people_matched == 1 and again.newly_marked == 0


async def test_teams_utf16_tab_separated_report_with_sections(
    make: Factory, database: Database, organiser: Organiser, clock: FrozenClock
) -> None:
    event = await _event(make, database, organiser)
    data = codecs.BOM_UTF16_LE + TEAMS.replace("\n", "\r\n").encode("utf-16-le")
    report = await _import(database, clock, event, organiser, data)
    assert await _attended(database, event) == {"bob@example.org", "zoe@example.org"}
    assert report.people_matched == 2
    assert [r.email for r in report.unmatched] == ["else@example.org"]
    assert report.malformed == []
    assert {r.joined for r in report.matched if r.email == "zoe@example.org"} == {
        "3/9/26, 6:02:00 PM"
    }


@pytest.mark.parametrize(
    "data",
    [
        ZOOM.encode("utf-8-sig"),  # Excel's "CSV UTF-8"
        ZOOM.encode("utf-16"),  # with a BOM
        ZOOM.encode("utf-16-le"),  # without one
        b"Email\nann@example.org\n",  # just a list of addresses
    ],
    ids=["utf8-bom", "utf16", "utf16-no-bom", "email-only"],
)
def test_encodings_and_plain_lists_are_read(data: bytes) -> None:
    rows, _ = attendance.parse_report(data)
    assert "ann@example.org" in {r.email for r in rows}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"Name,Joined\nAnn,yesterday\n", "could not find an email column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50, "could not find an email column"),
        (b"Email\n" + b"a@example.org\n" * (attendance.IMPORT_LIMIT // 14 + 1), "larger than"),
        # Zero bytes enough to look like UTF-16, but an odd length: cannot be UTF-16.
        ("Email\nann@example.org\n".encode("utf-16-le") + b"\x00", "could not be read"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8E\x00", "could not be read"),  # a lone surrogate
        (codecs.BOM_UTF8 + b"Email\n\xff\xfe\xfa\n", "could not be read"),
    ],
    ids=["empty", "no-email-column", "binary", "too-large", "odd-utf16", "bad-pair", "bad-utf8"],
)
def test_unusable_files_are_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        attendance.parse_report(data)
    assert message in refused.value.fields["file"]


async def test_import_page_shows_the_report_and_refuses_bad_files_changing_nothing(
    make: Factory,
    database: Database,
    organiser: Organiser,
    console: httpx.AsyncClient,
) -> None:
    event = await _event(make, database, organiser)
    path = f"/organiser/events/{event.slug}/attendance/import"
    token = await csrf_token(console, path)
    bad = await console.post(
        path,
        data={"csrf_token": token},
        files={"file": ("photo.png", b"\x89PNG\x00\x00garbage", "image/png")},
    )
    assert bad.status_code == 422
    assert "could not find an email column" in bad.text and 'aria-invalid="true"' in bad.text
    odd = "Email\nann@example.org\n".encode("utf-16-le") + b"\x00"
    unreadable = await console.post(
        path, data={"csrf_token": token}, files={"file": ("teams.csv", odd, "text/csv")}
    )
    assert unreadable.status_code == 422 and "could not be read" in unreadable.text
    none = await console.post(path, data={"csrf_token": token})
    assert none.status_code == 422 and "Choose the attendance report" in none.text
    assert await _attended(database, event) == set()

    done = await console.post(
        path,
        data={"csrf_token": token},
        files={"file": ("zoom.csv", ZOOM.encode("utf-8"), "text/csv")},
    )
    assert done.status_code == 200
    assert "1 person matched a registration; 1 newly marked as attended." in done.text
    assert re.search(r'<th scope="row" class="num">7</th><td>Stranger Danger</td>', done.text)
    assert "No email address in this row." in done.text
    assert "2 rows were about people on the waiting list" in done.text  # Cy and Di
    assert re.search(r'<th scope="row" class="num">10</th><td>Cy, the Waiting</td>', done.text)
    assert await _attended(database, event) == {"ann@example.org"}
    statuses = {r.email: r.status for r in await registrations(database, event.id)}
    assert statuses["cy@example.org"] == RegistrationStatus.waitlisted  # neither marked nor moved
