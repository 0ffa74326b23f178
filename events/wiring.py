"""What the worker process runs, collected from the rooms: every message kind's handler
(``message_registry``) and every periodic job (``JOBS``). Sits above the rooms, like
``app.py`` and ``cli.py``; the worker itself (``events/mail/worker.py``) imports no room.

Adding a mail kind: its ``MessageKind``, its model and handler in the room's
``messages.py`` (a room that has none yet adds its handler to ``message_registry``), its
templates. Adding a job: a ``jobs.Job`` in its room, listed in ``JOBS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events.alerts.messages import AlertMail
from events.alerts.service import DIGEST_JOB
from events.calendar.invites import registration_invite
from events.clock import Clock
from events.config import Settings
from events.db import Database
from events.kit.jobs import Job
from events.kit.signing import Signer
from events.kit.throttle import CLEAN_UP_JOB
from events.mail.messages import Registry
from events.mail.worker import Worker
from events.privacy.messages import PrivacyMail
from events.privacy.service import RETENTION_JOB
from events.registration.messages import InviteBuilder, RegistrationMail
from events.registration.reminders import JOB as REMINDER_JOB


def message_registry(*, invites: InviteBuilder | None = registration_invite) -> Registry:
    """Every kind's model and handler. ``invites`` builds registration emails' calendar part."""
    return Registry([RegistrationMail(invites=invites), AlertMail(), PrivacyMail()])


JOBS: Sequence[Job] = (REMINDER_JOB, DIGEST_JOB, RETENTION_JOB, CLEAN_UP_JOB)


def worker(
    database: Database, clock: Clock, settings: Settings, *, signer: Signer, **options: Any
) -> Worker:
    """The outbox worker with every room's handlers and jobs (``events worker``, and the
    in-process worker of ``events serve``), signing links with the process's one ``signer``.
    ``options``: ``Worker``'s other keyword arguments."""
    options.setdefault("registry", message_registry())
    options.setdefault("jobs", JOBS)
    return Worker(database, clock, settings, signer=signer, **options)
