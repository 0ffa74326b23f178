"""The subject access email: everything held for an address, readable and as JSON.

A pure leaf like ``mail/compose.py`` (values in, an ``EmailMessage`` out): the worker loads
the report (``queries.subject_report``) at send time, so the outbox row itself holds no copy
of the data, and hands it here.
"""

from __future__ import annotations

import datetime as dt
import json
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from events.kit.formatting import when
from events.mail.compose import ComposeError, Outgoing, header_text, message_id, privacy_links
from events.privacy.queries import SubjectReport
from events.registration.schemas import ACCESS_NEEDS, CONSENTS
from events.resources import templates_dir

SUBJECT = "Your data held by Union events"
ERASE_PATH = "/privacy/erase/{token}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates_dir() / "privacy"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["when"] = when
    return environment


def _address(value: str) -> Address:
    name, email = parseaddr(value)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or not email.isprintable() or " " in email:
        raise ComposeError(f"unusable address {email!r}")
    return Address(display_name=header_text(name), username=local, domain=domain)


def compose_report(
    outgoing: Outgoing, report: SubjectReport, *, mail_from: str, base_url: str
) -> EmailMessage:
    token = outgoing.payload.get("erase_token")
    erase_url = base_url + ERASE_PATH.format(token=quote(token, safe="")) if token else None
    values = {
        "report": report,
        "erase_url": erase_url,
        "needs": ACCESS_NEEDS,
        "consents": CONSENTS,
        **privacy_links(base_url),
    }
    environment = _environment()
    text = environment.get_template("mail_subject_access.txt").render(values)
    html = environment.get_template("mail_subject_access.html").render(values)
    sender = _address(mail_from)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = SUBJECT
    message["From"] = sender
    message["To"] = _address(outgoing.recipient)
    message["Date"] = format_datetime(outgoing.created_at.astimezone(dt.UTC))
    message["Message-ID"] = message_id(outgoing, sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.add_attachment(
        json.dumps(report.as_json(), indent=2, ensure_ascii=False).encode(),
        maintype="application",
        subtype="json",
        filename="your-data.json",
    )
    return message
