"""Transports: where a composed message goes. Chosen by ``EVENTS_MAIL_URL``.

- ``file:///folder``: one ``.eml`` file per message, named by its Message-ID (a resend
  overwrites the same file), and one log line; the default, so a newcomer can open what
  would have been sent.
- ``smtp://user:pass@host:port``: aiosmtplib, STARTTLS when the server offers it;
  ``smtps://``: implicit TLS. One connection serves a whole batch.

Every failure reaches the worker as one of two exceptions:

    DeliveryError
    ├── TemporaryFailure   4xx answers, refused or dropped connections, timeouts: retry later
    │                      (``connection=True`` when the server itself is unusable, so the
    │                      rest of the batch is put back rather than tried one by one)
    └── PermanentFailure   5xx answers about this message (to RCPT TO or DATA), or a message
                           this relay cannot carry at all (an address needing SMTPUTF8 that
                           it does not offer, an address or header the client refuses to
                           write): never retry; keep the answer. The connection stays
                           usable (the client resets the envelope), so the rest of the
                           batch goes out over it.
"""

from __future__ import annotations

import asyncio
import email.errors
import logging
import os
import re
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from events.kit.addresses import UnusableAddress, needs_smtputf8, smtp_address

log = logging.getLogger("events.mail")

# The reason kept on a message to a UTF-8 mailbox name (``jöran@…``) when the relay does not
# offer SMTPUTF8 (RFC 6531): nothing else can carry that address, so it fails for good.
SMTPUTF8_REFUSED = (
    "the mail relay does not accept international addresses (SMTPUTF8), "
    "so this message to an address with non-ASCII letters before the @ cannot be sent"
)


class DeliveryError(Exception):
    def __init__(self, answer: str, *, connection: bool = False) -> None:
        super().__init__(answer)
        self.answer = answer
        self.connection = connection


class TemporaryFailure(DeliveryError):
    """Try again later."""


class PermanentFailure(DeliveryError):
    """The server refused this message for good."""


class Transport(Protocol):
    """Opened once per batch (``async with``), then ``send`` for each message."""

    async def __aenter__(self) -> Transport: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None: ...


_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class FolderTransport:
    """Writes each message to ``folder/<message-id>.eml`` (atomically) and logs a line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def __aenter__(self) -> FolderTransport:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        message_id = str(message.get("Message-ID", "")).strip("<>") or "message"
        path = self.folder / (_UNSAFE_FILE_CHARS.sub("_", message_id) + ".eml")
        # A UTF-8 mailbox name is written as raw UTF-8 (as a relay with SMTPUTF8 gets it);
        # the plain SMTP policy would write encoded-words into the address, which no one
        # can reply to.
        try:
            utf8 = needs_smtputf8(recipient)
        except UnusableAddress as exc:
            raise PermanentFailure(f"cannot send this message: {exc}") from exc
        data = message.as_bytes(policy=policy.SMTPUTF8) if utf8 else bytes(message)
        try:
            await asyncio.to_thread(self._write, path, data)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {path}: {exc}", connection=True) from exc
        log.info("mail: wrote %s (%s)", path, message.get("Subject", ""))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(data)
        os.replace(partial, path)


class SmtpTransport:
    """aiosmtplib over one connection per batch; reconnects once if the server hangs up."""

    def __init__(
        self,
        *,
        hostname: str,
        port: int | None,
        username: str | None,
        password: str | None,
        implicit_tls: bool,
        timeout: float = 30,
        ca_file: str = "",
    ) -> None:
        self.hostname = hostname
        self.port = port
        self.username = username
        self.password = password
        self.implicit_tls = implicit_tls
        self.timeout = timeout
        # A private relay's CA (EVENTS_MAIL_CA_FILE); None: the system's trust store.
        self.tls_context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self._smtp: aiosmtplib.SMTP | None = None

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=None if not self.implicit_tls else False,  # None: STARTTLS if offered
            timeout=self.timeout,
            tls_context=self.tls_context,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = self._client()
        try:
            await smtp.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A wrong password is the operator's problem, not the message's: retry later.
            raise TemporaryFailure(f"authentication failed: {exc}", connection=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                f"cannot connect to {self.hostname}: {exc}", connection=True
            ) from exc
        self._smtp = smtp
        return smtp

    async def __aenter__(self) -> SmtpTransport:
        return self  # connect lazily: an empty batch opens nothing

    async def __aexit__(self, *_exc: object) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    def _drop(self, smtp: aiosmtplib.SMTP) -> None:
        self._smtp = None
        smtp.close()

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        try:
            # The envelope: bare addresses, domains as IDNA A-labels (events.kit.addresses),
            # so only a UTF-8 mailbox name needs SMTPUTF8. A display name in the sender
            # setting belongs in the From header, never in MAIL FROM.
            envelope_from = smtp_address(parseaddr(sender)[1] or sender)
            envelope_to = smtp_address(recipient)
        except UnusableAddress as exc:
            raise PermanentFailure(f"cannot send this message: {exc}") from exc
        utf8 = not (envelope_from + envelope_to).isascii()
        options = ["SMTPUTF8"] if utf8 else []
        smtp = self._smtp if self._smtp is not None and self._smtp.is_connected else None
        for attempt in (1, 2):
            if smtp is None:
                smtp = await self._connect()
            try:
                # With SMTPUTF8 aiosmtplib writes the message with policy.SMTPUTF8 (the To
                # header's UTF-8 address as it is); without, with policy.SMTP.
                await smtp.send_message(
                    message, sender=envelope_from, recipients=[envelope_to], mail_options=options
                )
                return
            except aiosmtplib.SMTPServerDisconnected as exc:
                # A pooled connection the server closed while idle: reconnect once.
                self._smtp = smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"server disconnected: {exc}", connection=True) from exc
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients[0] if exc.recipients else None
                code, answer = (refused.code, refused.message) if refused else (550, str(exc))
                raise _by_code(code, answer) from exc
            except aiosmtplib.SMTPResponseException as exc:
                raise _by_code(exc.code, exc.message) from exc
            except aiosmtplib.SMTPNotSupported as exc:
                # Raised before MAIL FROM: only this message needs what the relay lacks.
                if utf8 and not smtp.supports_extension("smtputf8"):
                    raise PermanentFailure(SMTPUTF8_REFUSED) from exc
                raise PermanentFailure(f"the mail relay cannot take this message: {exc}") from exc
            except (ValueError, email.errors.MessageError) as exc:
                # The client refused to write this message's address or headers: this
                # message's fault, not the server's. A fresh connection for the next one,
                # whatever state this one was left in.
                self._drop(smtp)
                raise PermanentFailure(f"cannot send this message: {exc}") from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                self._smtp = None
                raise TemporaryFailure(f"{type(exc).__name__}: {exc}", connection=True) from exc


def _by_code(code: int, answer: str) -> DeliveryError:
    text = f"{code} {answer}".strip()
    if 500 <= code < 600:
        return PermanentFailure(text)
    return TemporaryFailure(text)


def transport_from_url(url: str, *, ca_file: str = "") -> Transport:
    """The transport ``EVENTS_MAIL_URL`` names (validated by Settings)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderTransport(Path(unquote(parts.path)))
    if parts.scheme in {"smtp", "smtps"}:
        return SmtpTransport(
            hostname=parts.hostname or "localhost",
            port=parts.port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
            ca_file=ca_file,
        )
    raise ValueError(f"unsupported mail URL scheme {parts.scheme!r}")
