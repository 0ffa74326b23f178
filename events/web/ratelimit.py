"""In-process rate limits (per client address, per email) and the client address itself.

Per process by design for now (a later issue moves the counters to a shared store): with N
processes a client gets at most N times the limit, which still stops floods and scripts.

``client_address``: X-Forwarded-For is believed only when the peer is a configured trusted
proxy; otherwise anyone could dodge the limit by sending the header themselves.
"""

from __future__ import annotations

import math
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request
from starlette.responses import Response

from events.config import Settings
from events.web.errors import error_response

Network = IPv4Network | IPv6Network
MAX_KEYS = 100_000


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


class RateLimiter:
    """Fixed-window counters: at most ``limit`` hits per key per window."""

    def __init__(self, *, enabled: bool, window_seconds: int) -> None:
        self.enabled = enabled
        self.window = float(window_seconds)
        self._windows: dict[str, tuple[float, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(
            enabled=settings.rate_limit_enabled, window_seconds=settings.rate_limit_window_seconds
        )

    def hit(self, key: str, limit: int, now: float) -> float | None:
        """Count one hit; None when allowed, else seconds until the key may try again."""
        if not self.enabled:
            return None
        started, count = self._windows.get(key, (now, 0))
        if now >= started + self.window:
            started, count = now, 0
        if count >= limit:
            return started + self.window - now
        if len(self._windows) >= MAX_KEYS:
            self._prune(now)
        self._windows[key] = (started, count + 1)
        return None

    def _prune(self, now: float) -> None:
        self._windows = {
            key: value for key, value in self._windows.items() if now < value[0] + self.window
        }

    def reset(self) -> None:
        self._windows.clear()


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def too_many(request: Request, retry_after: float, *, what: str) -> Response:
    seconds = max(1, math.ceil(retry_after))
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return error_response(
        request,
        429,
        "rate_limited",
        f"There have been too many registrations {what} in a short time. "
        f"Please wait {wait} and try again.",
        headers={"Retry-After": str(seconds)},
    )
