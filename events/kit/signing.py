"""The app's one signer: every HMAC keyed with the app secret is made here.

``Signer`` is built once at start-up (``create_app``, the worker, each command) from the
validated secret and handed down (``AppContext.signer`` to views, ``SendContext.signer``
to mail handlers, an argument to the worker's jobs); nothing else reads the secret. Each
use names its ``Purpose``, which is the prefix of the signed text, so a value made for one
purpose is never valid for another.

The formulas are those the app has always used: links in emails already sent, token hashes
already stored and session cookies already set keep working (``tests/kit/test_signing.py``
pins them byte for byte):

* stored hash of a random token: ``HMAC(secret, "<purpose>:<token>")`` as hex;
* a joining or calendar token derived from a management token:
  ``HMAC(secret, "derive:<join|calendar>:<manage>")``, URL-safe base64 without padding;
* a MAC of a text (alert links, the session cookie, result-page tickets):
  ``HMAC(secret, "<purpose>:<text>")``, raw bytes, which the caller encodes as its link or
  cookie needs;
* the CSRF key: ``SHA-256("csrf:<secret>")``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import StrEnum


class Purpose(StrEnum):
    """What a signed value is for; the value is the signed text's prefix."""

    # Stored hashes of random tokens (``Signer.hash_token``, ``Signer.matches``).
    MANAGE = "manage"  # a registration's management link
    JOIN = "join"  # the personal joining link (derived from manage)
    CALENDAR = "calendar"  # the private calendar feed (derived from manage)
    SESSION = "session"  # an organiser's console login session
    API = "api"  # an organiser's API token
    ERASE = "erase"  # privacy: the link that confirms an erasure request
    # Join and calendar tokens made from a management token (``Signer.derive``).
    DERIVE = "derive"
    # MACs of a text (``Signer.mac``).
    ALERTS_CONFIRM = "alerts:confirm"  # the link confirming a topic subscription
    ALERTS_UNSUBSCRIBE = "alerts:unsubscribe"  # the link ending one
    SESSION_COOKIE = "cookie"  # the signature in the console's session cookie
    RESULT = "result"  # a result page's short-lived ticket after a POST (``web/results.py``)
    # The key of the CSRF tokens (``Signer.csrf_key``).
    CSRF = "csrf"


STORED = frozenset(
    {
        Purpose.MANAGE,
        Purpose.JOIN,
        Purpose.CALENDAR,
        Purpose.SESSION,
        Purpose.API,
        Purpose.ERASE,
    }
)
DERIVED = frozenset({Purpose.JOIN, Purpose.CALENDAR})
MACS = frozenset(
    {Purpose.ALERTS_CONFIRM, Purpose.ALERTS_UNSUBSCRIBE, Purpose.SESSION_COOKIE, Purpose.RESULT}
)


def _text(value: str) -> bytes:
    # As the stored hashes always did: a lone surrogate (from a malformed URL) is encoded,
    # not an error, and then simply matches nothing.
    return value.encode("utf-8", "surrogatepass")


class Signer:
    """HMAC-SHA256 keyed with the app secret, one purpose per kind of use."""

    __slots__ = ("_csrf_key", "_key")

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the signing secret must not be empty")
        self._key = secret.encode()
        self._csrf_key = hashlib.sha256(f"{Purpose.CSRF}:".encode() + self._key).digest()

    def __repr__(self) -> str:
        return "Signer(<secret>)"

    def _digest(self, purpose: Purpose, text: str) -> hmac.HMAC:
        return hmac.new(self._key, _text(f"{purpose}:{text}"), hashlib.sha256)

    def hash_token(self, purpose: Purpose, token: str) -> str:
        """What is stored for a random token (hex), so the database alone cannot forge it."""
        if purpose not in STORED:
            raise ValueError(f"{purpose!r} is not a stored token's purpose")
        return self._digest(purpose, token).hexdigest()

    def matches(self, purpose: Purpose, token: str, stored_hash: str) -> bool:
        """Whether ``token`` is the one ``stored_hash`` was made from (constant time)."""
        return hmac.compare_digest(self.hash_token(purpose, token), stored_hash)

    def derive(self, purpose: Purpose, manage: str) -> str:
        """The joining or calendar token that goes with a management token (one way)."""
        if purpose not in DERIVED:
            raise ValueError(f"{purpose!r} is not derived from a management token")
        digest = self._digest(Purpose.DERIVE, f"{purpose}:{manage}").digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def mac(self, purpose: Purpose, text: str) -> bytes:
        """The HMAC of ``text`` for ``purpose`` (32 bytes); the caller encodes it."""
        if purpose not in MACS:
            raise ValueError(f"{purpose!r} is not a MAC's purpose")
        return self._digest(purpose, text).digest()

    @property
    def csrf_key(self) -> bytes:
        """The key CSRF tokens are signed with (``web/csrf.py``)."""
        return self._csrf_key
