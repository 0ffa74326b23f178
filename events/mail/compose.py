"""Composing an email from an outbox row: plain text and accessible HTML from
``templates/mail/<kind>.txt`` and ``<kind>.html``, plus an optional calendar invite.

A pure leaf: values in, an ``EmailMessage`` out; no session, no clock, no network. The
worker loads what the templates need (the event, the access requirements given) and hands
it over; ``calendar`` is the hook for the invite part built by ``events.calendar``.

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
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from events.catalog.models import Event, EventFormat
from events.resources import templates_dir
from events.web.templating import when

# Paths of the registration room's link routes ("registration:manage", "registration:join");
# tests/mail/test_compose.py checks them against the app's routing table.
MANAGE_PATH = "/r/{token}"
JOIN_PATH = "/j/{token}"
EVENT_PATH = "/events/{slug}"

# Kinds that tell the registrant they hold a place (a joining link, a REQUEST invite).
CONFIRMED_KINDS = frozenset({"confirmed", "promoted"})

SUBJECTS: Mapping[str, str] = {
    "confirmed": "Your place is confirmed: {title}",
    "waitlisted": "You are on the waiting list: {title}",
    "promoted": "A place has come up for you: {title}",
    "cancelled": "Your place has been cancelled: {title}",
}

# Control characters, and separators a mail client may treat as line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")
_ENCODED_WORD = re.compile(r"=\?", re.ASCII)
_SPACES = re.compile(r"\s+")


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
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(email) or _SPACES.search(email):
        raise ComposeError(f"unusable recipient address {email!r}")
    try:
        return Address(display_name=header_text(name), username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"unusable recipient address {email!r}: {exc}") from None


def _sender(mail_from: str) -> Address:
    name, email = parseaddr(mail_from)
    return _address(name, email)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir() / "mail"),
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


@dataclass(frozen=True)
class Links:
    event_url: str
    manage_url: str | None  # the registrant's management link, when the row carries a token
    join_url: str | None  # the personal joining link: confirmed places at online events only


def links(outgoing: Outgoing, event: Event, base_url: str) -> Links:
    payload = outgoing.payload
    confirmed = outgoing.kind in CONFIRMED_KINDS
    online = event.format in {EventFormat.online, EventFormat.hybrid}
    return Links(
        event_url=base_url + EVENT_PATH.format(slug=quote(event.slug, safe="")),
        manage_url=_link(base_url, MANAGE_PATH, payload.get("manage_token")),
        join_url=_link(base_url, JOIN_PATH, payload.get("join_token"))
        if confirmed and online
        else None,
    )


def context(
    outgoing: Outgoing,
    *,
    event: Event,
    access_requirements: Sequence[str],
    access_details: str,
    base_url: str,
) -> dict[str, Any]:
    """What the templates see. Times are the event's own, in its own zone."""
    payload = outgoing.payload
    online = event.format in {EventFormat.online, EventFormat.hybrid}
    found = links(outgoing, event, base_url)
    return {
        "kind": outgoing.kind,
        "name": str(payload.get("name") or ""),
        "resent": bool(payload.get("resent")),
        "position": payload.get("position"),
        "event": event,
        "title": event.title,
        "when": when(event.starts_at, event.ends_at, event.timezone, event.all_day),
        "online": online,
        "in_person": event.format != EventFormat.online,
        "event_url": found.event_url,
        "manage_url": found.manage_url,
        "join_url": found.join_url,
        "access_requirements": list(access_requirements),
        "access_details": access_details,
    }


def compose(
    outgoing: Outgoing,
    *,
    event: Event,
    mail_from: str,
    base_url: str,
    access_requirements: Sequence[str] = (),
    access_details: str = "",
    calendar: CalendarPart | None = None,
) -> EmailMessage:
    """The email for one outbox row. ``calendar``, when given, adds the invite in both the
    places calendar apps look (see ``CalendarPart``)."""
    subject = SUBJECTS.get(outgoing.kind)
    if subject is None:
        raise ComposeError(f"no template for mail kind {outgoing.kind!r}")
    values = context(
        outgoing,
        event=event,
        access_requirements=access_requirements,
        access_details=access_details,
        base_url=base_url,
    )
    environment = _environment()
    try:
        text = environment.get_template(f"{outgoing.kind}.txt").render(values)
        html = environment.get_template(f"{outgoing.kind}.html").render(values)
    except TemplateNotFound as exc:
        raise ComposeError(f"missing mail template {exc.name}") from None

    sender = _sender(mail_from)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = header_text(subject.format(title=event.title))
    message["From"] = sender
    message["To"] = _address(str(outgoing.payload.get("name") or ""), outgoing.recipient)
    message["Date"] = format_datetime(outgoing.created_at.astimezone(dt.UTC))
    message["Message-ID"] = message_id(outgoing, sender.domain)
    message["Auto-Submitted"] = "auto-generated"
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
