"""The signer makes exactly the values the app made before it existed.

Links in emails already sent, token hashes already stored and session cookies already set
must keep working after an upgrade, so each formula below is the one the code used before
``events/kit/signing.py`` (written out with plain ``hmac``/``hashlib`` as the reference),
and a few values computed by that code are pinned as literals too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.kit.signing import Purpose, Signer
from events.registration.tokens import new_token
from tests.factories import TEST_SECRET, TEST_SIGNER

MANAGE = "Jq0t4m3mcZ3Yb2b4Gq2fWQp9rj1uQ6f8bA0kFh3yZxE"
CREATED = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
STORED_PURPOSES = ["manage", "join", "calendar", "session", "api", "erase"]


# The formulas as the code wrote them before the signer --------------------------------


def old_token_hash(secret: str, purpose: str, token: str) -> str:
    message = f"{purpose}:{token}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def old_derived(secret: str, purpose: str, manage: str) -> str:
    digest = hmac.new(secret.encode(), f"derive:{purpose}:{manage}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def old_link_token(secret: str, subscription: Any, purpose: str) -> str:
    text = f"alerts:{purpose}:{subscription.id}:{int(subscription.created_at.timestamp())}"
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return f"{subscription.id}.{base64.urlsafe_b64encode(digest).decode()[:32]}"


def old_cookie_value(secret: str, token: str) -> str:
    digest = hmac.new(secret.encode(), f"cookie:{token}".encode(), hashlib.sha256).digest()
    return f"{token}.{base64.urlsafe_b64encode(digest[:16]).decode().rstrip('=')}"


def old_csrf_token(secret: str, cookie: str, session: str) -> str:
    key = hashlib.sha256(f"csrf:{secret}".encode()).digest()
    digest = hmac.new(key, f"{cookie}\x00{session}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def subscription(id_: int = 42, created_at: dt.datetime = CREATED) -> Any:
    return SimpleNamespace(id=id_, created_at=created_at)


# Same values as before ----------------------------------------------------------------


@pytest.mark.parametrize("purpose", STORED_PURPOSES)
def test_stored_hashes_are_unchanged(purpose: str) -> None:
    token = new_token()
    expected = old_token_hash(TEST_SECRET, purpose, token)
    assert TEST_SIGNER.hash_token(Purpose(purpose), token) == expected
    assert TEST_SIGNER.matches(Purpose(purpose), token, expected)
    assert not TEST_SIGNER.matches(Purpose(purpose), token + "x", expected)


def test_derived_tokens_are_unchanged() -> None:
    for purpose in ("join", "calendar"):
        expected = old_derived(TEST_SECRET, purpose, MANAGE)
        assert TEST_SIGNER.derive(Purpose(purpose), MANAGE) == expected
    # As computed by the code before the signer, for this secret.
    assert TEST_SIGNER.derive(Purpose.JOIN, MANAGE) == "9bTnEdy6m3qvb9KJ6mF_nRVWfUyIroGEVbdFD-EBHfA"
    assert TEST_SIGNER.hash_token(Purpose.MANAGE, MANAGE) == (
        "505cd93c2d2f7d70fc432a7ad9762427321249673efcccc471bfd5eac4011ee1"
    )


def test_the_csrf_key_is_unchanged() -> None:
    digest = hmac.new(TEST_SIGNER.csrf_key, b"visitor\x00sess", hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert token == old_csrf_token(TEST_SECRET, "visitor", "sess")
    assert token == "W_SbT6qxjz6yW9JUHl5NBq9Q9PceFpLIHi95Vwrvvj4"


@given(
    secret=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=64),
    token=st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    id_=st.integers(min_value=1, max_value=2**31 - 1),
    seconds=st.integers(min_value=0, max_value=4_000_000_000),
)
def test_every_formula_matches_for_any_secret_and_input(
    secret: str, token: str, id_: int, seconds: int
) -> None:
    signer = Signer(secret)
    for purpose in STORED_PURPOSES:
        assert signer.hash_token(Purpose(purpose), token) == old_token_hash(secret, purpose, token)
    for purpose in ("join", "calendar"):
        assert signer.derive(Purpose(purpose), token) == old_derived(secret, purpose, token)
    sub = subscription(id_, dt.datetime.fromtimestamp(seconds, dt.UTC))
    for purpose in ("confirm", "unsubscribe"):
        mac = signer.mac(Purpose(f"alerts:{purpose}"), f"{id_}:{seconds}")
        link = f"{id_}.{base64.urlsafe_b64encode(mac).decode()[:32]}"
        assert link == old_link_token(secret, sub, purpose)
    mac = signer.mac(Purpose.SESSION_COOKIE, token)
    cookie = f"{token}.{base64.urlsafe_b64encode(mac[:16]).decode().rstrip('=')}"
    assert cookie == old_cookie_value(secret, token)
    key = hashlib.sha256(f"csrf:{secret}".encode()).digest()
    assert signer.csrf_key == key


# Refusals and separation --------------------------------------------------------------


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Signer("")


def test_the_secret_is_not_shown() -> None:
    assert TEST_SECRET not in repr(TEST_SIGNER)


def test_different_purposes_give_different_values() -> None:
    token = new_token()
    stored = {TEST_SIGNER.hash_token(Purpose(p), token) for p in STORED_PURPOSES}
    assert len(stored) == len(STORED_PURPOSES)
    derived = {TEST_SIGNER.derive(p, token) for p in (Purpose.JOIN, Purpose.CALENDAR)}
    assert len(derived) == 2
    macs = {
        TEST_SIGNER.mac(p, token)
        for p in (Purpose.ALERTS_CONFIRM, Purpose.ALERTS_UNSUBSCRIBE, Purpose.SESSION_COOKIE)
    }
    assert len(macs) == 3
    everything = [
        *stored,
        *derived,
        *(base64.urlsafe_b64encode(m).decode().rstrip("=") for m in macs),
        *(m.hex() for m in macs),
        TEST_SIGNER.csrf_key.hex(),
    ]
    assert len(set(everything)) == len(everything)


def test_different_secrets_give_different_values() -> None:
    other = Signer(TEST_SECRET + "!")
    token = new_token()
    assert other.hash_token(Purpose.MANAGE, token) != TEST_SIGNER.hash_token(Purpose.MANAGE, token)
    assert other.csrf_key != TEST_SIGNER.csrf_key


def test_a_purpose_is_used_only_as_what_it_is() -> None:
    with pytest.raises(ValueError):
        TEST_SIGNER.derive(Purpose.MANAGE, MANAGE)
    with pytest.raises(ValueError):
        TEST_SIGNER.hash_token(Purpose.SESSION_COOKIE, MANAGE)
    with pytest.raises(ValueError):
        TEST_SIGNER.mac(Purpose.MANAGE, MANAGE)
