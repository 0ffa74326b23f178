"""Secret links: 256 random bits each, stored only as an HMAC-SHA256 keyed with the app
secret, so the database alone can neither reveal nor forge a link."""

from __future__ import annotations

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


@dataclass(frozen=True)
class TokenPair:
    """A fresh management token and personal joining token, with their stored hashes."""

    manage: str
    join: str
    manage_hash: str
    join_hash: str

    @classmethod
    def generate(cls, secret: str) -> TokenPair:
        manage, join = new_token(), new_token()
        return cls(
            manage=manage,
            join=join,
            manage_hash=token_hash(secret, "manage", manage),
            join_hash=token_hash(secret, "join", join),
        )
