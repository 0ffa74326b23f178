"""Rate limits (per client address, per email, per token) and the client address itself.

The counters live in the database (``kit/throttle.py``: ``RateLimiter``), so every app
process on every machine counts against the same limit: with counters in each process's
memory, N processes would let a client through N times as often.

``client_address``: X-Forwarded-For is believed only when the peer is a configured trusted
proxy; otherwise anyone could dodge the limit by sending the header themselves.
"""

from __future__ import annotations

import math
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request

from events.kit.throttle import RateLimiter
from events.web.context import app_context

Network = IPv4Network | IPv6Network


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    peer = request.client.host if request.client else ""
    peer_ip = _parse(peer)

    def is_trusted(ip: IPv4Address | IPv6Address | None) -> bool:
        return ip is not None and any(ip in network for network in trusted)

    if not is_trusted(peer_ip):
        return peer
    hops = [
        part for header in request.headers.getlist("x-forwarded-for") for part in header.split(",")
    ]
    # Walk from the nearest hop back; the first address not ours is the client.
    for hop in reversed(hops):
        ip = _parse(hop)
        if ip is None:
            break
        if not is_trusted(ip):
            return str(ip)
    return peer


def limiter_of(request: Request) -> RateLimiter:
    return app_context(request).rate_limiter


def wait_phrase(seconds: float) -> str:
    """How long to wait, for a person: "1 minute", "10 minutes" (rounded up)."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
