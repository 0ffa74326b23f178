"""SMTP over TLS against aiosmtpd with a self-signed certificate made for the test:
implicit TLS (``smtps://``) and STARTTLS (``smtp://``, upgraded when offered), the
certificate trusted through ``EVENTS_MAIL_CA_FILE``; an untrusted one is not sent to."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from events.clock import FrozenClock
from events.config import Settings
from events.db import Database
from events.mail.models import OutboxStatus
from tests.factories import Factory, register
from tests.mail.conftest import Recorder, free_port
from tests.mail.helpers import mail_worker
from tests.registration.helpers import outbox


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _serve(controller: Controller, recorder: Recorder, port: int) -> Iterator[tuple[Recorder, int]]:
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@pytest.fixture
def implicit_tls(certificate: tuple[Path, Path]) -> Iterator[tuple[Recorder, int]]:
    recorder, port = Recorder(), free_port()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate)
    )
    yield from _serve(controller, recorder, port)


@pytest.fixture
def starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[Recorder, int]]:
    recorder, port = Recorder(), free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(certificate),
        require_starttls=True,
    )
    yield from _serve(controller, recorder, port)


async def test_smtps_with_a_trusted_ca_file(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    certificate: tuple[Path, Path],
    implicit_tls: tuple[Recorder, int],
) -> None:
    recorder, port = implicit_tls
    await register(make, await make.event(), "sam@example.org")
    trusting = settings.model_copy(update={"mail_ca_file": str(certificate[0])})

    result = await mail_worker(database, clock, trusting, f"smtps://127.0.0.1:{port}").drain()

    assert result.sent == 1
    [received] = recorder.received
    assert received.tls and received.recipients == ["sam@example.org"]


async def test_starttls_when_offered(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    certificate: tuple[Path, Path],
    starttls: tuple[Recorder, int],
) -> None:
    recorder, port = starttls
    await register(make, await make.event(), "sam@example.org")
    trusting = settings.model_copy(update={"mail_ca_file": str(certificate[0])})

    result = await mail_worker(database, clock, trusting, f"smtp://127.0.0.1:{port}").drain()

    assert result.sent == 1
    [received] = recorder.received
    assert received.tls  # the server refuses mail before STARTTLS (require_starttls)


async def test_an_untrusted_certificate_is_retried_not_sent(
    database: Database,
    clock: FrozenClock,
    settings: Settings,
    make: Factory,
    implicit_tls: tuple[Recorder, int],
) -> None:
    recorder, port = implicit_tls
    await register(make, await make.event(), "sam@example.org")

    result = await mail_worker(database, clock, settings, f"smtps://127.0.0.1:{port}").drain()

    assert (result.sent, result.retried) == (0, 1)
    assert recorder.received == []
    [row] = await outbox(database)
    assert row.status == OutboxStatus.pending and "certificate" in row.last_error.lower()
