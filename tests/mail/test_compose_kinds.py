"""Every kind composes to a plain-text and an accessible HTML part with a clean subject."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from starlette.applications import Starlette

from events.mail.compose import (
    CALENDAR_PATH,
    PRIVACY_NOTICE_PATH,
    PRIVACY_REQUESTS_PATH,
    Outgoing,
    compose,
)
from events.mail.kinds import MessageKind
from events.wiring import message_registry
from tests.mail.test_compose import CREATED, an_event

# Every kind composed by mail/compose.py, with its model's Subject line (the subject access
# report has its own composer, privacy/report.py).
REGISTRY = message_registry()
SUBJECTS = {
    kind.value: REGISTRY.model(kind).subject_template
    for kind in REGISTRY.kinds
    if kind is not MessageKind.subject_access
}

PAYLOADS: dict[str, dict[str, object]] = {
    "event_updated": {"status": "confirmed", "changed": ["starts_at", "venue_name"], "sequence": 2},
    "event_cancelled": {"status": "waitlisted", "sequence": 3},
    "broadcast": {"status": "confirmed", "subject": "Slides", "body": "See you soon"},
    "waitlist_moved": {"status": "waitlisted", "changed": ["starts_at", "venue_name"]},
    "reminder": {"status": "confirmed", "offset": 60, "starts_at": "2026-03-30T17:00:00+00:00"},
    "subscription_confirm": {"subscription_id": 5, "confirm_token": "5.abc"},
    "alert": {"subscription_id": 5, "unsubscribe_token": "5.def"},
    "alert_digest": {"subscription_id": 5, "unsubscribe_token": "5.def", "event_ids": [7]},
}


def outgoing(kind: str, **payload: object) -> Outgoing:
    values: dict[str, object] = {
        "registration_id": 3,
        "event_id": 7,
        "name": "Siân Teacher",
        "manage_token": "manage-abc",
        "join_token": "join-xyz",
        "calendar_token": "cal-123",
        "topic_name": "SEND",
        "topic_slug": "send",
        "frequency": "immediate",
    }
    values.update(PAYLOADS.get(kind, {}))
    values.update(payload)
    return Outgoing(41, kind, "sam@example.org", values, f"k:{kind}", CREATED, SUBJECTS[kind])


def build(kind: str, **payload: object) -> EmailMessage:
    event = an_event()
    message = compose(
        outgoing(kind, **payload),
        event=None if kind in {"subscription_confirm", "alert_digest"} else event,
        events=[event],
        mail_from="Union Events <events@mail.example.org>",
        base_url="https://events.example.org",
    )
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("kind", sorted(SUBJECTS))
def test_every_kind_has_both_parts(kind: str) -> None:
    message = build(kind)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "None" not in text.get_content()
    assert '<html lang="en-GB">' in html.get_content()
    assert "<h1" in html.get_content()
    assert message["Subject"] and "\n" not in str(message["Subject"])


@pytest.mark.parametrize("kind", sorted(SUBJECTS))
def test_every_kinds_footer_links_the_privacy_notice_and_privacy_requests(kind: str) -> None:
    """Issue 16 item 10: in the text part and the HTML part alike, after the message."""
    message = build(kind)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    footer = text.get_content().replace("\r\n", "\n").rpartition("\n--\n")[2]
    assert "How we use your data: https://events.example.org/privacy-notice\n" in footer
    assert "Get a copy of your data or erase it: https://events.example.org/privacy\n" in footer
    page = html.get_content()
    assert '<a href="https://events.example.org/privacy-notice"' in page
    assert '<a href="https://events.example.org/privacy"' in page
    assert page.index("/privacy-notice") > page.index("<h1"), "in the footer, not the top"


def test_privacy_link_paths_match_the_app_routes(app: Starlette) -> None:
    assert app.url_path_for("privacy:notice") == PRIVACY_NOTICE_PATH
    assert app.url_path_for("privacy:request") == PRIVACY_REQUESTS_PATH


def test_reminder_gives_the_time_in_the_events_zone() -> None:
    message = build("reminder")
    # 30 March 2026 17:00 UTC is 6pm British Summer Time.
    assert "6pm" in str(message["Subject"]) and "BST" in str(message["Subject"])
    text = message.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "https://events.example.org/j/join-xyz" in content
    assert "https://events.example.org/c/cal-123.ics" in content
    assert "https://events.example.org/r/manage-abc" in content


def test_waitlisted_people_get_no_joining_or_calendar_link() -> None:
    message = build("event_updated", status="waitlisted")
    text = message.get_body(("plain",))
    assert text is not None
    assert "/j/" not in text.get_content() and "/c/" not in text.get_content()
    assert "still on the waiting list" in text.get_content()


def test_the_waiting_list_hears_of_a_move_without_a_joining_or_calendar_link() -> None:
    """Even a row that carried those tokens: a waiting place has neither (issue 13 item 3)."""
    message = build("waitlist_moved")
    assert message["Subject"] == "Changed: Small group interventions (you are on the waiting list)"
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        content = part.get_content()
        assert "/j/" not in content and "/c/" not in content
        assert "still on the waiting list" in content
        assert "the start time, the venue" in content
        assert "https://events.example.org/r/manage-abc" in content
    assert all(p.get_content_type() != "text/calendar" for p in message.walk())


def test_topic_names_cannot_inject_headers() -> None:
    message = build("alert", topic_name="SEND\r\nBcc: everyone@example.org")
    assert message["Bcc"] is None
    assert message["Subject"].startswith("New SEND Bcc: everyone@example.org event:")


def test_only_alerts_and_digests_carry_one_click_unsubscribe() -> None:
    for kind in SUBJECTS:
        message = build(kind)
        expected = kind in {"alert", "alert_digest"}
        assert (message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click") is expected
    assert build("alert")["List-Unsubscribe"] == (
        "<https://events.example.org/alerts/unsubscribe/5.def>"
    )


def test_digest_lists_its_events() -> None:
    message = build("alert_digest")
    assert message["Subject"] == "New SEND events: 1"
    html = message.get_body(("html",))
    assert html is not None
    assert 'href="https://events.example.org/events/send-webinar"' in html.get_content()
    assert dt.date(2026, 3, 30).strftime("%B") in html.get_content()


def test_calendar_feed_path_matches_the_app_route(app: Starlette) -> None:
    assert app.url_path_for("calendar:private", token="T") == CALENDAR_PATH.format(token="T")
