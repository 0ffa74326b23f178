"""A real SMTP server (aiosmtpd) in the test process, recording what it accepts.

Recipients are answered by their local part: ``temp-fail...@`` gets ``451`` (try later),
``perm-fail...@`` gets ``550`` (refused for good); everyone else is accepted. A test may also
name addresses to refuse with a reply of its choosing, at RCPT TO (``refuse_rcpt``) or at the
end of DATA (``refuse_data``: the envelope is accepted, the message is not).
"""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    tls: bool = False  # the message came over TLS (implicit, or after STARTTLS)
    mail_options: list[str] = field(default_factory=list)  # MAIL FROM's, e.g. SMTPUTF8

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # address -> the reply to RCPT TO, or to the end of DATA, for a message to it
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_data: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        local = address.partition("@")[0]
        if local.startswith("temp-fail"):
            return "451 4.3.0 Mailbox busy, try again later"
        if local.startswith("perm-fail"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self.refuse_data[address]
        content = envelope.original_content or b""
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        with self.lock:
            self.received.append(
                Received(
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    bytes(content),
                    tls,
                    list(envelope.mail_options),
                )
            )
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(recorder: Recorder | None = None, **options: Any) -> Iterator[SmtpServer]:
    recorder = recorder or Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, recorder)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from _serve()


@pytest.fixture
def smtp_ascii_only() -> Iterator[SmtpServer]:
    """A relay that does not offer SMTPUTF8 (aiosmtpd's controller offers it by default)."""
    yield from _serve(enable_SMTPUTF8=False)
