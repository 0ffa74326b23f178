"""Post/Redirect/Get: after a form has changed something, the browser is sent (303 See Other)
to a result page it can reload, bookmark or go back to without sending the form again, so a
refresh or a double-click never books twice or sends a second email.

When the result page must say what happened (a place or a waiting-list number), the redirect
carries a *ticket*: the few facts the page shows, signed (``Purpose.RESULT``) so nobody can
make the site say something it did not, and short-lived (``TICKET_SECONDS``). A ticket holds
no secret and nothing personal (no email, no name, no link token): it ends up in the address
bar, the history of a shared staffroom computer and perhaps a screenshot, where a management
link (``/r/{token}``, which can cancel the place) must never be. The pages that show it send
``Referrer-Policy: no-referrer`` all the same.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
from typing import Any

from starlette.responses import RedirectResponse

from events.kit.signing import Purpose, Signer

# Long enough to reload the page or come back to the tab; short enough that an old address
# in a history list shows nothing (the email the person was sent stays the record).
TICKET_SECONDS = 3600
MAX_TICKET = 4096
MAC_BYTES = 16


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(signer: Signer, kind: str, body: str) -> str:
    return _encode(signer.mac(Purpose.RESULT, f"{kind}:{body}")[:MAC_BYTES])


def issue(signer: Signer, kind: str, facts: Any, now: dt.datetime) -> str:
    """A ticket for the ``kind`` of result page, carrying ``facts`` (JSON-able, no secrets)."""
    expires = int(now.timestamp()) + TICKET_SECONDS
    body = _encode(json.dumps([expires, facts], separators=(",", ":")).encode())
    return f"{body}.{_mac(signer, kind, body)}"


def read(signer: Signer, kind: str, ticket: str, now: dt.datetime) -> Any | None:
    """The facts of a good, unexpired ticket for ``kind``; None for anything else."""
    if len(ticket) > MAX_TICKET or ticket.count(".") != 1:
        return None
    body, mac = ticket.split(".")
    try:
        if not hmac.compare_digest(_mac(signer, kind, body), mac):
            return None
        expires, facts = json.loads(_decode(body))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        return None
    if not isinstance(expires, int) or expires < now.timestamp():
        return None
    return facts


def see_other(url: str, headers: dict[str, str] | None = None) -> RedirectResponse:
    """The 303 that ends a successful form POST: the browser fetches ``url`` with GET."""
    return RedirectResponse(url, status_code=303, headers=headers)
