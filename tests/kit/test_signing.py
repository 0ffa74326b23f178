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
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.applications import Starlette

from events.alerts.links import Purpose as AlertPurpose
from events.alerts.links import link_token
from events.app import create_app
from events.config import Settings
from events.kit.signing import Purpose, Signer
from events.organiser.web import cookie_value, token_from_cookie
from events.registration.tokens import LinkSet, new_token
from events.web.context import AppContext
from events.web.csrf import Csrf
from tests.factories import TEST_SECRET, TEST_SIGNER

MANAGE = "Jq0t4m3mcZ3Yb2b4Gq2fWQp9rj1uQ6f8bA0kFh3yZxE"
CREATED = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
STORED_PURPOSES = ["manage", "join", "calendar", "session", "api", "erase"]
ALERT_PURPOSES: tuple[AlertPurpose, ...] = ("confirm", "unsubscribe")


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


def app_context_of(app: Starlette) -> AppContext:
    context: AppContext = app.state.context
    return context


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


def test_the_links_of_one_email_are_unchanged() -> None:
    links = LinkSet.from_manage(TEST_SIGNER, MANAGE)
    assert links.join == old_derived(TEST_SECRET, "join", MANAGE)
    assert links.calendar == old_derived(TEST_SECRET, "calendar", MANAGE)
    assert links.hashes(TEST_SIGNER) == {
        purpose: old_token_hash(TEST_SECRET, purpose, getattr(links, purpose))
        for purpose in ("manage", "join", "calendar")
    }
    # As computed by the code before the signer, for this secret.
    assert links.join == "9bTnEdy6m3qvb9KJ6mF_nRVWfUyIroGEVbdFD-EBHfA"
    assert links.calendar == "mpSl0G65DGl1PlwtsNsPfhq5lrHuf3UxjnMgNtjBnrI"
    assert links.hashes(TEST_SIGNER)["manage"] == (
        "505cd93c2d2f7d70fc432a7ad9762427321249673efcccc471bfd5eac4011ee1"
    )


def test_alert_links_are_unchanged() -> None:
    sub = subscription()
    for purpose in ALERT_PURPOSES:
        assert link_token(TEST_SIGNER, sub, purpose) == old_link_token(TEST_SECRET, sub, purpose)
    assert link_token(TEST_SIGNER, sub, "confirm") == "42.Cu87XmkbirbT-iQvX_bf6S_Z31onpIT6"
    assert link_token(TEST_SIGNER, sub, "unsubscribe") == "42.9X7zOvSf_LF4Q1FTfp64SVquMdzNYEUg"


def test_session_cookies_are_unchanged() -> None:
    value = cookie_value(TEST_SIGNER, MANAGE)
    assert value == old_cookie_value(TEST_SECRET, MANAGE)
    assert value == "Jq0t4m3mcZ3Yb2b4Gq2fWQp9rj1uQ6f8bA0kFh3yZxE.MNbLIZsvFA_3UtZeXezBvg"
    assert token_from_cookie(TEST_SIGNER, old_cookie_value(TEST_SECRET, MANAGE)) == MANAGE


def test_csrf_tokens_are_unchanged() -> None:
    csrf = Csrf(TEST_SIGNER.csrf_key)
    assert csrf.token_for("visitor", "sess") == old_csrf_token(TEST_SECRET, "visitor", "sess")
    assert csrf.token_for("visitor", "sess") == "W_SbT6qxjz6yW9JUHl5NBq9Q9PceFpLIHi95Vwrvvj4"
    assert csrf.valid("visitor", old_csrf_token(TEST_SECRET, "visitor", ""))


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
    for purpose in ALERT_PURPOSES:
        assert link_token(signer, sub, purpose) == old_link_token(secret, sub, purpose)
    assert cookie_value(signer, token) == old_cookie_value(secret, token)
    assert Csrf(signer.csrf_key).token_for(token, "s") == old_csrf_token(secret, token, "s")


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


# Built once, at start-up --------------------------------------------------------------


def test_the_app_builds_its_signer_once_from_the_settings(app: Starlette) -> None:
    context = app_context_of(app)
    assert context.signer.csrf_key == TEST_SIGNER.csrf_key
    assert context.csrf.token_for("visitor") == Csrf(TEST_SIGNER.csrf_key).token_for("visitor")


def test_the_app_refuses_an_empty_secret(settings: Settings) -> None:
    empty = settings.model_copy(update={"secret_key": SecretStr("")})
    with pytest.raises(ValueError, match="empty"):
        create_app(empty)


def test_a_command_refuses_an_empty_development_key_file(tmp_path: Path) -> None:
    (tmp_path / ".events-secret").write_text("\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env["EVENTS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'signer_test.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "events", "worker", "--once"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "configuration error: EVENTS_SECRET_KEY" in done.stderr
