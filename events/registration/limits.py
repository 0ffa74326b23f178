"""The registration rate limits, shared by the HTML forms and the JSON API.

One client address is often a whole staffroom, union office or conference venue behind one
NAT or proxy: a hundred colleagues booking a campaign-day event from it within minutes is
ordinary use. So the per-address count is only a high ceiling against floods, and abuse is
held back where it shows:

* per email (any events), and per email on one event or series: hammering one address;
* by behaviour: an address whose requests keep filling the honeypot (a hidden field only
  form-filling robots fill) is held back from registering at all for the rest of the window.

Only well-formed requests are counted: a validation error (422) costs nobody anything.
A limit that answers is a ``Held``: the HTML forms show it next to the form, with what was
typed, and the API as a JSON 429; both send ``Retry-After``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.requests import Request

from events.web.context import app_context
from events.web.ratelimit import client_address, limiter_of, wait_phrase

FROM_ADDRESS = "from your connection"
FOR_EMAIL = "for that email address"


@dataclass(frozen=True)
class Held:
    """A limit that answered: how long until a try may succeed, and which limit it was."""

    retry_after: float
    what: str

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))

    @property
    def message(self) -> str:
        return (
            f"There have been too many registrations {self.what} in a short time. "
            f"Please wait {wait_phrase(self.seconds)} and try again."
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.seconds)}


def _address(request: Request) -> str:
    return client_address(request, app_context(request).settings.trusted_networks)


async def registration_limits(request: Request, email: str, target: str) -> Held | None:
    """Count one well-formed registration for ``email`` on ``target`` (``event:<slug>`` or
    ``series:<slug>``); the limit that holds it back, or None when it may go ahead."""
    settings = app_context(request).settings
    limiter = limiter_of(request)
    address = _address(request)
    if (left := await limiter.blocked(f"honeypot:{address}")) is not None:
        return Held(left, FROM_ADDRESS)
    checks = (
        (f"address:{address}", settings.rate_limit_per_address, FROM_ADDRESS),
        (f"email:{email}", settings.rate_limit_per_email, FOR_EMAIL),
        (f"email:{target}:{email}", settings.rate_limit_per_email_event, FOR_EMAIL),
    )
    for key, limit, what in checks:
        if (retry := await limiter.hit(key, limit)) is not None:
            return Held(retry, what)
    return None


async def honeypot_tripped(request: Request) -> None:
    """Count a filled honeypot against the client address (see the module's docstring)."""
    settings = app_context(request).settings
    await limiter_of(request).hit(
        f"honeypot:{_address(request)}", settings.rate_limit_honeypot_per_address
    )
