"""Secret links: 256 random bits each, stored only as an HMAC keyed with the app secret
(``kit.signing.Signer``), so the database alone can neither reveal nor forge a link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from events.kit.signing import Purpose, Signer


def new_token() -> str:
    return secrets.token_urlsafe(32)


def plausible(token: str) -> bool:
    """Cheap shape check before touching the database (token_urlsafe(32) is 43 chars)."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@dataclass(frozen=True)
class LinkSet:
    """The secret links one email carries: management, personal joining and private feed.

    The joining and calendar tokens are derived from the management token (HMAC, one way),
    so that the management page, holding only its own token, can show the same personal
    joining link and private feed link as the email it came from, while neither derived
    token reveals the management token that can cancel the place."""

    manage: str
    join: str
    calendar: str

    @classmethod
    def generate(cls, signer: Signer) -> LinkSet:
        return cls.from_manage(signer, new_token())

    @classmethod
    def from_manage(cls, signer: Signer, manage: str) -> LinkSet:
        return cls(
            manage=manage,
            join=signer.derive(Purpose.JOIN, manage),
            calendar=signer.derive(Purpose.CALENDAR, manage),
        )

    def hashes(self, signer: Signer) -> dict[str, str]:
        """Purpose -> stored hash, one row each in ``registration_tokens``."""
        return {
            "manage": signer.hash_token(Purpose.MANAGE, self.manage),
            "join": signer.hash_token(Purpose.JOIN, self.join),
            "calendar": signer.hash_token(Purpose.CALENDAR, self.calendar),
        }
