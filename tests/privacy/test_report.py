"""The subject access email, composed from real rows."""

from __future__ import annotations

import datetime as dt
import json

from events.mail.compose import Outgoing
from events.privacy import service
from events.privacy.report import compose_report
from tests.factories import Factory, register


async def test_the_report_email_carries_everything_readable_and_as_json(make: Factory) -> None:
    event = await make.event("SEND: small group interventions")
    await register(
        make,
        event,
        "jo@example.org",
        name="Jo Ángel\r\nBcc: evil@example.org",
        access_requirements=["bsl"],
        consents=["privacy", "access_data"],
    )
    async with make.database.reader() as session:
        report = await service.subject_report(session, email="jo@example.org")
    outgoing = Outgoing(
        id=7,
        kind="subject_access",
        recipient="jo@example.org",
        payload={"request_id": 1, "erase_token": "T" * 43},
        dedupe_key="privacy:1",
        created_at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
    )
    message = compose_report(
        outgoing, report, mail_from="Events <events@union.example>", base_url="https://ev.example"
    )
    assert message["To"] == "jo@example.org"
    assert "Bcc" not in message and "evil@example.org" not in str(message["To"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html):
        assert "SEND: small group interventions" in part
        assert "https://ev.example/privacy/erase/" + "T" * 43 in part
        assert "British Sign Language interpreter" in part
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "your-data.json"
    data = json.loads(attachment.get_content())
    assert data["registrations"][0]["access_requirements"] == ["bsl"]
    assert data["registrations"][0]["name"].startswith("Jo Ángel")


async def test_an_unknown_address_is_told_we_hold_nothing_and_gets_no_erase_link(
    make: Factory,
) -> None:
    async with make.database.reader() as session:
        report = await service.subject_report(session, email="nobody@example.org")
    outgoing = Outgoing(
        id=8,
        kind="subject_access",
        recipient="nobody@example.org",
        payload={"erase_token": "T" * 43},
        dedupe_key="privacy:2",
        created_at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
    )
    message = compose_report(
        outgoing, report, mail_from="events@union.example", base_url="https://ev.example"
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "We hold nothing for this address" in text and "/privacy/erase/" not in text
