"""Secret links: 256 random bits each, stored only as an HMAC-SHA256 keyed with the app
secret, so the database alone can neither reveal nor forge a link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(secret: str, purpose: str, token: str) -> str:
    message = f"{purpose}:{token}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def matches(secret: str, purpose: str, token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(secret, purpose, token), stored_hash)


def plausible(token: str) -> bool:
    """Cheap shape check before touching the database (token_urlsafe(32) is 43 chars)."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def derived(secret: str, purpose: str, manage: str) -> str:
    """The joining or calendar token that goes with a management token.

    Derived (HMAC, one way) so that the management page, holding only its own token, can
    show the same personal joining link and private feed link as the email it came from,
    while neither derived token reveals the management token that can cancel the place."""
    digest = hmac.new(secret.encode(), f"derive:{purpose}:{manage}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


@dataclass(frozen=True)
class LinkSet:
    """The secret links one email carries: management, personal joining and private feed."""

    manage: str
    join: str
    calendar: str

    @classmethod
    def generate(cls, secret: str) -> LinkSet:
        return cls.from_manage(secret, new_token())

    @classmethod
    def from_manage(cls, secret: str, manage: str) -> LinkSet:
        return cls(
            manage=manage,
            join=derived(secret, "join", manage),
            calendar=derived(secret, "calendar", manage),
        )

    def hashes(self, secret: str) -> dict[str, str]:
        """Purpose -> stored hash, one row each in ``registration_tokens``."""
        return {
            "manage": token_hash(secret, "manage", self.manage),
            "join": token_hash(secret, "join", self.join),
            "calendar": token_hash(secret, "calendar", self.calendar),
        }
