"""Composing: headers, both parts, non-ASCII, header injection, stable Message-IDs."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from starlette.applications import Starlette

from events.catalog.models import Event, EventFormat, EventKind
from events.mail.compose import (
    JOIN_PATH,
    MANAGE_PATH,
    CalendarPart,
    ComposeError,
    Outgoing,
    compose,
    header_text,
)
from events.wiring import message_registry

CREATED = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
# Each kind's Subject line, as its model declares it.
REGISTRY = message_registry()
SUBJECTS = {kind.value: REGISTRY.model(kind).subject_template for kind in REGISTRY.kinds}


def an_event(**overrides: object) -> Event:
    fields: dict[str, object] = {
        "id": 7,
        "uid": "evt-7@example.org",
        "slug": "send-webinar",
        "title": "Small group interventions",
        "kind": EventKind.webinar,
        "format": EventFormat.online,
        # 30 March 2026 is after the clocks go forward: 17:00 UTC is 6pm BST.
        "starts_at": dt.datetime(2026, 3, 30, 17, 0, tzinfo=dt.UTC),
        "ends_at": dt.datetime(2026, 3, 30, 18, 30, tzinfo=dt.UTC),
        "timezone": "Europe/London",
        "all_day": False,
        "venue_name": "",
        "venue_address": "",
        "town": "",
        "postcode": "",
        "organiser_name": "Events team",
        "organiser_email": "events@example.org",
    }
    fields.update(overrides)
    return Event(**fields)


def an_outgoing(kind: str = "confirmed", **payload: object) -> Outgoing:
    values: dict[str, object] = {
        "registration_id": 3,
        "event_id": 7,
        "name": "Sam Teacher",
        "position": None,
        "manage_token": "manage-abc",
        "join_token": "join-xyz",
    }
    values.update(payload)
    return Outgoing(
        id=41,
        kind=kind,
        recipient="sam@example.org",
        payload=values,
        dedupe_key=f"registration:3:{kind}",
        created_at=CREATED,
        subject_template=SUBJECTS.get(kind, ""),
    )


def build(
    outgoing: Outgoing | None = None, event: Event | None = None, **kw: object
) -> EmailMessage:
    return compose(
        outgoing or an_outgoing(),
        event=event or an_event(),
        mail_from="Union Events <events@mail.example.org>",
        base_url="https://events.example.org",
        **kw,  # type: ignore[arg-type]
    )


def reparsed(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_maintype() == "text" and part.get_filename() is None:
            found[part.get_content_type()] = part.get_content()
    return found


def test_confirmation_has_text_and_html_with_times_in_the_event_zone() -> None:
    message = reparsed(build())
    assert message["Subject"] == "Your place is confirmed: Small group interventions"
    assert message["To"] == "Sam Teacher <sam@example.org>"
    assert message["From"] == "Union Events <events@mail.example.org>"
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    for body in (text, html):
        assert "Monday 30 March 2026, 6pm to 7:30pm BST" in body
        assert "https://events.example.org/r/manage-abc" in body
        assert "https://events.example.org/j/join-xyz" in body
        assert "https://events.example.org/events/send-webinar" in body


def test_html_part_is_accessible() -> None:
    html = parts(reparsed(build()))["text/html"]
    assert '<html lang="en-GB">' in html
    assert "<title>Your place is confirmed: Small group interventions</title>" in html
    assert "<h1" in html and "<h2" in html
    assert "<table" not in html
    assert ">View or cancel your booking</a>" in html
    assert "click here" not in html.lower()


def test_confirmation_echoes_the_access_requirements_given() -> None:
    message = reparsed(
        build(access_requirements=["British Sign Language"], access_details="Front row, please")
    )
    for body in parts(message).values():
        assert "British Sign Language" in body
        assert "Front row, please" in body


def test_html_escapes_names_and_titles() -> None:
    message = reparsed(
        build(an_outgoing(name="<script>x</script>"), an_event(title="A & B <b>bold</b>"))
    )
    html = parts(message)["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "A &amp; B &lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize("kind", ["confirmed", "waitlisted", "promoted", "cancelled"])
def test_every_registration_kind_composes_both_parts(kind: str) -> None:
    message = reparsed(build(an_outgoing(kind, position=4 if kind == "waitlisted" else None)))
    found = parts(message)
    assert set(found) == {"text/plain", "text/html"}
    assert "Small group interventions" in found["text/plain"]
    if kind == "waitlisted":
        assert "number 4" in found["text/plain"]
        assert "/j/" not in found["text/plain"]  # no joining link without a place


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ComposeError):
        build(an_outgoing("telegram"))


def test_non_ascii_names_and_subjects_are_encoded() -> None:
    message = build(an_outgoing(name="Siân Ó Murchú"), an_event(title="Café für Lehrkräfte"))
    raw = bytes(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # every header is plain ASCII on the wire (RFC 2047)
    back = reparsed(message)
    assert back["Subject"] == "Your place is confirmed: Café für Lehrkräfte"
    assert back["To"].addresses[0].display_name == "Siân Ó Murchú"
    assert "Siân Ó Murchú" in parts(back)["text/plain"]


@pytest.mark.parametrize(
    "name",
    [
        "Eve\r\nBcc: victim@example.org",
        "Eve\nBcc: victim@example.org",
        "Eve\u2028Bcc: victim@example.org",
        "Eve\x85Bcc: victim@example.org",
        "=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?=",
        "=?utf-8?b?RXZlDQpCY2M6IHZpY3RpbUBleGFtcGxlLm9yZw==?=",
    ],
)
def test_header_injection_from_a_name_adds_no_header(name: str) -> None:
    message = build(an_outgoing(name=name), an_event(title=f"Title {name}"))
    back = reparsed(message)
    assert back["Bcc"] is None
    assert len(back["To"].addresses) == 1
    assert back["To"].addresses[0].addr_spec == "sam@example.org"
    for line in bytes(message).split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert not line.lower().startswith(b"bcc")


def test_header_text_strips_controls_and_breaks_encoded_words() -> None:
    assert header_text("a\r\nb\tc\x00d\u2029e") == "a b c d e"
    assert "=?" not in header_text("=?utf-8?q?x=0Ay?=")


@pytest.mark.parametrize("recipient", ["no-at-sign", "a@b\r\nBcc: x@y", "a b@example.org"])
def test_unusable_recipient_is_refused(recipient: str) -> None:
    outgoing = an_outgoing()
    broken = Outgoing(
        id=outgoing.id,
        kind=outgoing.kind,
        recipient=recipient,
        payload=outgoing.payload,
        dedupe_key=outgoing.dedupe_key,
        created_at=outgoing.created_at,
        subject_template=outgoing.subject_template,
    )
    with pytest.raises(ComposeError):
        build(broken)


def test_message_id_is_stable_for_a_row() -> None:
    first, again = build(), build()
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"].startswith("<outbox-41.")
    assert first["Message-ID"].endswith("@mail.example.org>")
    other = build(an_outgoing("cancelled"))
    assert other["Message-ID"] != first["Message-ID"]


def test_calendar_part_goes_in_the_alternative_and_as_an_attachment() -> None:
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = reparsed(build(calendar=CalendarPart(method="REQUEST", ics=ics)))
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
    inner = [p.get_content_type() for p in alternative.iter_parts()]
    assert inner == ["text/plain", "text/html", "text/calendar"]
    calendar = next(p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    attachment = next(p for p in message.walk() if p.get_filename() == "invite.ics")
    assert attachment.get_content() == ics


def test_link_paths_match_the_app_routes(app: Starlette) -> None:
    assert app.url_path_for("registration:manage", token="t") == MANAGE_PATH.format(token="t")
    assert app.url_path_for("registration:join", token="t") == JOIN_PATH.format(token="t")
    assert app.url_path_for("catalog:event", slug="s") == "/events/s"
