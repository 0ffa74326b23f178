"""Composing an email from an outbox row: plain text and accessible HTML from
``templates/mail/<kind>.txt`` and ``<kind>.html``, plus an optional calendar invite.

A pure leaf: values in, an ``EmailMessage`` out; no session, no clock, no network. The
worker loads what the templates need (the event, the access requirements given, a digest's
events) and hands it over; ``calendar`` is the hook for the invite part built by
``events.calendar``.

Kinds about a registration: confirmed, waitlisted, promoted, cancelled, event_updated,
event_cancelled, broadcast, reminder, waitlist_moved. Kinds about a topic subscription
(no registration): subscription_confirm, alert, alert_digest; the last two carry RFC 8058 one-click
``List-Unsubscribe`` headers.

``Reply-To``: mail about an event reaches its organiser when someone replies (the handler
passes ``reply_to``); alerts and the subject access report carry none.

Headers: every value that reaches a header passes ``header_text`` first. Python 3.11.7
predates the fix for CVE-2024-6923, so the email package would fold a line break (or an
RFC 2047 encoded-word that decodes to one) from a name or title into a new header line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from events.kit.addresses import ascii_domain, split_address
from events.kit.formatting import when
from events.kit.markdown import markdown_html, markdown_text
from events.resources import templates_dir

# Paths of the registration room's link routes ("registration:manage", "registration:join");
# tests/mail/test_compose.py checks them against the app's routing table.
MANAGE_PATH = "/r/{token}"
JOIN_PATH = "/j/{token}"
CALENDAR_PATH = "/c/{token}.ics"
EVENT_PATH = "/events/{slug}"
TOPIC_PATH = "/topics/{slug}"
# The alerts room's link routes ("alerts:confirm", "alerts:unsubscribe").
CONFIRM_PATH = "/alerts/confirm/{token}"
UNSUBSCRIBE_PATH = "/alerts/unsubscribe/{token}"
# The privacy room's public pages ("privacy:notice", "privacy:request"): every email's footer
# links to both.
PRIVACY_NOTICE_PATH = "/privacy-notice"
PRIVACY_REQUESTS_PATH = "/privacy"

# Kinds that tell the registrant they hold a place (a joining link, a REQUEST invite).
CONFIRMED_KINDS = frozenset({"confirmed", "promoted"})
# Kinds sent to registrants whatever their status; those holding a confirmed place (the
# payload's "status") get their joining link and private calendar feed as well.
NOTICE_KINDS = frozenset({"event_updated", "event_cancelled", "broadcast", "reminder"})
# Kinds about a topic subscription rather than a registration.
ALERT_KINDS = frozenset({"subscription_confirm", "alert", "alert_digest"})

# How the fields an organiser changed are named in an update email.
CHANGE_LABELS: Mapping[str, str] = {
    "starts_at": "the start time",
    "ends_at": "the end time",
    "time": "the time",
    "timezone": "the time zone",
    "all_day": "the time",
    "venue_name": "the venue",
    "venue_address": "the address",
    "venue": "the venue",
    "place": "the place",
    "town": "the town",
    "postcode": "the postcode",
    "format": "how it is held (online or in person)",
    "joining_url": "the joining link",
    "title": "the title",
    "summary": "the summary",
    "description": "the description",
    "organiser_name": "the organiser",
    "organiser_email": "the organiser's email address",
    "slug": "the event page's address",
}

# How an event is held, as its ``format`` column says.
ONLINE_FORMATS = frozenset({"online", "hybrid"})


class Event(Protocol):
    """What the templates read from an event (``catalog.models.Event`` has it all): mail
    composes from these values and imports no room."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def ends_at(self) -> dt.datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def all_day(self) -> bool: ...


# Control characters, and separators a mail client may treat as line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")
_ENCODED_WORD = re.compile(r"=\?", re.ASCII)
_SPACES = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


class ComposeError(ValueError):
    """This row cannot become an email (unknown kind, unusable address): a permanent failure."""


@dataclass(frozen=True)
class CalendarPart:
    """An iTIP object (RFC 6047): sent as ``text/calendar; method=...`` inside
    ``multipart/alternative`` and again as an ``invite.ics`` attachment."""

    method: str  # "REQUEST" | "CANCEL"
    ics: bytes


@dataclass(frozen=True)
class Outgoing:
    """The parts of an outbox row that composing needs."""

    id: int
    kind: str
    recipient: str
    payload: Mapping[str, Any]
    dedupe_key: str
    created_at: dt.datetime
    # The kind's Subject line (its model's ``subject_template``), filled in by compose.
    subject_template: str = ""


def header_text(value: str) -> str:
    """A value safe for one header line: controls and line separators become spaces, an
    encoded-word opener ``=?`` is broken up so nothing decodes into a line break later,
    runs of white space collapse."""
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub(" ", value)
    value = "".join(" " if unicodedata.category(ch) in {"Zl", "Zp", "Cc"} else ch for ch in value)
    value = _ENCODED_WORD.sub("= ?", value)
    return _SPACES.sub(" ", value).strip()


def mail_domain(address: str) -> str:
    domain = parseaddr(address)[1].rpartition("@")[2]
    return header_text(domain) or "localhost"


def message_id(outgoing: Outgoing, domain: str) -> str:
    """Stable per outbox row: a resend after a crash carries the same Message-ID, so the
    receiving side can recognise the duplicate."""
    digest = hashlib.sha256(f"{outgoing.id}:{outgoing.dedupe_key}".encode()).hexdigest()[:16]
    return f"<outbox-{outgoing.id}.{digest}@{domain}>"


def _address(name: str, email: str) -> Address:
    """A header address. The domain is written as IDNA A-labels when the mailbox name is
    ASCII, so the message needs nothing a relay may lack; a UTF-8 mailbox name can only
    travel with SMTPUTF8 anyway, and then the address is written as the person typed it
    (RFC 6532: raw UTF-8 in the header, which the transport writes with
    ``policy.SMTPUTF8``)."""
    email = email.strip()
    if _CONTROL.search(email) or _SPACES.search(email):
        raise ComposeError(f"unusable recipient address {email!r}")
    try:
        local, domain = split_address(email)
        if local.isascii():
            domain = ascii_domain(domain)
        return Address(display_name=header_text(name), username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"unusable recipient address {email!r}: {exc}") from None


def _sender(mail_from: str) -> Address:
    name, email = parseaddr(mail_from)
    return _address(name, email)


@dataclass(frozen=True)
class ReplyTo:
    """Who a reply reaches: the event's organiser, or the organiser who wrote a message."""

    name: str
    email: str


def reply_to_address(reply_to: ReplyTo | None) -> Address | None:
    """The ``Reply-To`` header's address, or None when there is no usable one. An
    organiser's address is typed into a form: one that cannot be written as a header (no
    ``@``, a UTF-8 mailbox name) costs the message its Reply-To, never the message itself.
    A UTF-8 domain is written IDNA-encoded."""
    if reply_to is None or not reply_to.email.strip():
        return None
    try:
        address = _address(reply_to.name, reply_to.email)
    except ComposeError:
        return None
    return address if address.username.isascii() else None


class _CachedHeaderRegistry(HeaderRegistry):
    """The standard registry builds a new class with ``type()`` on every header set (about
    70 us each, a dozen per email): build each once."""

    @lru_cache(maxsize=64)  # noqa: B019 - one module-level instance, kept for the process
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


# policy.SMTP (CRLF line ends, RFC-compliant folding) with the cached registry.
SMTP_POLICY = policy.SMTP.clone(header_factory=_CachedHeaderRegistry())


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir() / "mail"),
        auto_reload=False,  # templates are read once per process, not stat()ed per email
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _link(base_url: str, path: str, token: object) -> str | None:
    if not isinstance(token, str) or not token:
        return None
    return base_url + path.format(token=quote(token, safe=""))


def holds_place(outgoing: Outgoing) -> bool:
    """Whether the email goes to someone holding a confirmed place (as the row was queued)."""
    if outgoing.kind in CONFIRMED_KINDS:
        return True
    return outgoing.kind in NOTICE_KINDS and outgoing.payload.get("status") == "confirmed"


@dataclass(frozen=True)
class Links:
    event_url: str
    manage_url: str | None  # the registrant's management link, when the row carries a token
    join_url: str | None  # the personal joining link: confirmed places at online events only
    calendar_url: str | None = None  # the registrant's private feed: confirmed places only


def event_url(base_url: str, event: Event) -> str:
    return base_url + EVENT_PATH.format(slug=quote(event.slug, safe=""))


def links(outgoing: Outgoing, event: Event, base_url: str) -> Links:
    payload = outgoing.payload
    confirmed = holds_place(outgoing) and outgoing.kind != "event_cancelled"
    online = event.format in ONLINE_FORMATS
    return Links(
        event_url=event_url(base_url, event),
        manage_url=_link(base_url, MANAGE_PATH, payload.get("manage_token"))
        if outgoing.kind != "event_cancelled"
        else None,
        join_url=_link(base_url, JOIN_PATH, payload.get("join_token"))
        if confirmed and online
        else None,
        calendar_url=_link(base_url, CALENDAR_PATH, payload.get("calendar_token"))
        if confirmed
        else None,
    )


def _plain(text: str) -> str:
    """An organiser's text with one newline convention and no other control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or not _CONTROL.match(ch))


def _changes(changed: object) -> list[str]:
    if not isinstance(changed, list | tuple):
        return []
    labels: list[str] = []
    for item in changed:
        label = CHANGE_LABELS.get(str(item), str(item).replace("_", " "))
        if label not in labels:
            labels.append(label)
    return labels


def _event_values(event: Event, base_url: str) -> dict[str, Any]:
    return {
        "event": event,
        "title": event.title,
        "when": when(event.starts_at, event.ends_at, event.timezone, event.all_day),
        "online": event.format in ONLINE_FORMATS,
        "in_person": event.format != "online",
        "event_url": event_url(base_url, event),
    }


def _alert_context(
    outgoing: Outgoing, event: Event | None, events: Sequence[Event], base_url: str
) -> dict[str, Any]:
    payload = outgoing.payload
    topic_slug = str(payload.get("topic_slug") or "")
    values: dict[str, Any] = {
        "kind": outgoing.kind,
        "name": "",
        "topic": str(payload.get("topic_name") or "this topic"),
        "topic_url": base_url + TOPIC_PATH.format(slug=quote(topic_slug, safe=""))
        if topic_slug
        else base_url,
        "frequency": str(payload.get("frequency") or "immediate"),
        "confirm_url": _link(base_url, CONFIRM_PATH, payload.get("confirm_token")),
        "unsubscribe_url": _link(base_url, UNSUBSCRIBE_PATH, payload.get("unsubscribe_token")),
        "digest": [
            {
                "title": item.title,
                "when": when(item.starts_at, item.ends_at, item.timezone, item.all_day),
                "url": event_url(base_url, item),
                "summary": item.summary,
            }
            for item in events
        ],
        "count": len(events),
    }
    if event is not None:
        values.update(_event_values(event, base_url))
        values["summary"] = event.summary
    return values


def context(
    outgoing: Outgoing,
    *,
    event: Event | None,
    access_requirements: Sequence[str],
    access_details: str,
    base_url: str,
    events: Sequence[Event] = (),
) -> dict[str, Any]:
    """What the templates see. Times are the event's own, in its own zone."""
    if outgoing.kind in ALERT_KINDS:
        return _alert_context(outgoing, event, events, base_url)
    if event is None:
        raise ComposeError("the event this message is about no longer exists")
    payload = outgoing.payload
    found = links(outgoing, event, base_url)
    return {
        **_event_values(event, base_url),
        "kind": outgoing.kind,
        "name": str(payload.get("name") or ""),
        "resent": bool(payload.get("resent")),
        "position": payload.get("position"),
        "confirmed": holds_place(outgoing),
        "waitlisted": payload.get("status") == "waitlisted",
        "manage_url": found.manage_url,
        "join_url": found.join_url,
        "calendar_url": found.calendar_url,
        "access_requirements": list(access_requirements),
        "access_details": access_details,
        "changed": _changes(payload.get("changed")),
        "subject": str(payload.get("subject") or ""),
        "body": _plain(str(payload.get("body") or "")),
        "paragraphs": [
            part.strip("\n")
            for part in _PARAGRAPH.split(_plain(str(payload.get("body") or "")))
            if part.strip()
        ],
        "sender_name": str(payload.get("sender_name") or ""),
        # The organiser's Markdown: plain text for the text part, sanitised HTML for the other.
        "about_text": markdown_text(_plain(event.description or "")),
        "about_html": markdown_html(_plain(event.description or "")),
        "offset_minutes": payload.get("offset"),
    }


def privacy_links(base_url: str) -> dict[str, str]:
    """The footer's links to the privacy notice and the privacy requests page."""
    return {
        "privacy_notice_url": base_url + PRIVACY_NOTICE_PATH,
        "privacy_requests_url": base_url + PRIVACY_REQUESTS_PATH,
    }


def subject_line(outgoing: Outgoing, values: Mapping[str, Any]) -> str:
    template = outgoing.subject_template
    if not template:
        raise ComposeError(f"no subject line for mail kind {outgoing.kind!r}")
    return header_text(
        template.format(
            title=values.get("title", ""),
            when=values.get("when", ""),
            subject=values.get("subject", ""),
            topic=values.get("topic", ""),
            count=values.get("count", 0),
        )
    )


def compose(
    outgoing: Outgoing,
    *,
    event: Event | None,
    mail_from: str,
    base_url: str,
    access_requirements: Sequence[str] = (),
    access_details: str = "",
    calendar: CalendarPart | None = None,
    events: Sequence[Event] = (),
    reply_to: ReplyTo | None = None,
) -> EmailMessage:
    """The email for one outbox row. ``calendar``, when given, adds the invite in both the
    places calendar apps look (see ``CalendarPart``). ``events`` are a digest's events.
    ``reply_to``: the person a reply reaches (``Reply-To``); the footer then says so
    instead of asking people not to reply."""
    if not outgoing.subject_template:
        raise ComposeError(f"no subject line for mail kind {outgoing.kind!r}")
    values = context(
        outgoing,
        event=event,
        access_requirements=access_requirements,
        access_details=access_details,
        base_url=base_url,
        events=events,
    )
    replies = reply_to_address(reply_to)
    values["reply_to"] = (replies.display_name or replies.addr_spec) if replies else None
    values.update(privacy_links(base_url))
    environment = _environment()
    try:
        text = environment.get_template(f"{outgoing.kind}.txt").render(values)
        html = environment.get_template(f"{outgoing.kind}.html").render(values)
    except TemplateNotFound as exc:
        raise ComposeError(f"missing mail template {exc.name}") from None

    sender = _sender(mail_from)
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject_line(outgoing, values)
    message["From"] = sender
    message["To"] = _address(str(outgoing.payload.get("name") or ""), outgoing.recipient)
    if replies is not None:
        message["Reply-To"] = replies
    message["Date"] = format_datetime(outgoing.created_at.astimezone(dt.UTC))
    message["Message-ID"] = message_id(outgoing, sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    unsubscribe = values.get("unsubscribe_url")
    if outgoing.kind in {"alert", "alert_digest"} and unsubscribe:
        # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" to this URL themselves.
        message["List-Unsubscribe"] = f"<{header_text(unsubscribe)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if calendar is not None:
        method = header_text(calendar.method).upper()
        message.add_alternative(
            calendar.ics,
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "utf-8"},
        )
        message.add_attachment(
            calendar.ics, maintype="application", subtype="ics", filename="invite.ics"
        )
    return message
