"""Organiser accounts: signing in (with throttling), password change, sessions and tokens.

Signing in is throttled per account and per client address with shared counters
(``throttle.py``). A refused sign-in *returns* its refusal instead of raising it: the failed
attempt must be counted, and a raised error would roll the count back with the transaction.
The refusal reads the same whether or not the email address has an account, and an
unknown address costs the same Argon2 work (``auth.password_matches``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.config import Settings
from events.errors import InvalidInput, NotFound
from events.kit import throttle
from events.kit.signing import Purpose, Signer
from events.organiser import auth
from events.organiser.models import ApiToken, LoginSession, Organiser


@dataclass(frozen=True)
class LoginPolicies:
    account: throttle.Policy
    address: throttle.Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicies:
        window = dt.timedelta(minutes=settings.login_window_minutes)
        backoff = dt.timedelta(seconds=settings.login_backoff_seconds)
        lock_for = dt.timedelta(minutes=settings.login_lock_minutes)
        return cls(
            account=throttle.Policy(
                window=window,
                free=settings.login_account_free_attempts,
                backoff=backoff,
                lock_after=settings.login_account_lock_after,
                lock_for=lock_for,
            ),
            address=throttle.Policy(
                window=window,
                free=settings.login_address_free_attempts,
                backoff=backoff,
                lock_after=settings.login_address_lock_after,
                lock_for=lock_for,
            ),
        )


@dataclass(frozen=True)
class LoginResult:
    """Either a new session, or a refusal (wrong details and/or a wait before the next try)."""

    started: auth.NewSession | None = None
    wrong_details: bool = False
    retry_after: dt.timedelta | None = None  # set: no attempt is accepted before then

    @property
    def ok(self) -> bool:
        return self.started is not None


def account_key(email: str) -> str:
    return f"login:account:{auth.normalise_email(email)[:180]}"


def address_key(address: str) -> str:
    return f"login:address:{address[:180]}"


async def login(
    session: AsyncSession,
    clock: Clock,
    *,
    email: str,
    password: str,
    address: str,
    signer: Signer,
    policies: LoginPolicies,
    previous_token: str | None = None,
) -> LoginResult:
    """Sign in, or say why not. Blocked keys are refused before the password is checked.
    A session this browser had before (``previous_token``) ends when the new one starts."""
    keys = (account_key(email), address_key(address))
    waits = [w for w in [await throttle.blocked(session, clock, k) for k in keys] if w]
    if waits:
        return LoginResult(retry_after=max(waits))
    organiser = await auth.organiser_by_email(session, email) if email.strip() else None
    # Argon2 takes tens of milliseconds of CPU: off the event loop.
    matches = await asyncio.to_thread(auth.password_matches, organiser, password)
    if organiser is not None and matches and organiser.active:
        await throttle.reset(session, clock, keys[0])
        if previous_token is not None:
            await auth.end_session(session, clock, previous_token, signer=signer)
        started = await auth.start_session(session, clock, organiser, signer=signer)
        return LoginResult(started=started)
    verdicts = [
        await throttle.hit(session, clock, keys[0], policies.account),
        await throttle.hit(session, clock, keys[1], policies.address),
    ]
    retry = [v.retry_after for v in verdicts if v.retry_after is not None]
    return LoginResult(wrong_details=True, retry_after=max(retry) if retry else None)


async def logout(session: AsyncSession, clock: Clock, *, token: str | None, signer: Signer) -> None:
    if token is not None:
        await auth.end_session(session, clock, token, signer=signer)


async def _fresh(session: AsyncSession, organiser: Organiser) -> Organiser:
    found = await session.get(Organiser, organiser.id, populate_existing=True)
    if found is None or not found.active:
        raise NotFound("We could not find that account.")
    return found


async def change_password(
    session: AsyncSession,
    clock: Clock,
    organiser: Organiser,
    *,
    current: str,
    new: str,
    confirm: str,
    signer: Signer,
) -> auth.NewSession:
    """Check the current password, set the new one, end every session (every copy of every
    cookie stops working) and start a fresh one for the browser that asked."""
    account = await _fresh(session, organiser)
    errors: dict[str, str] = {}  # field -> message (ruff's S105 misreads these as secrets)
    if not await asyncio.to_thread(auth.password_matches, account, current):
        errors["current_password"] = "Your current password is not right."  # noqa: S105
    try:
        auth.check_password_rules(new)
    except InvalidInput as exc:
        errors["new_password"] = exc.fields.get("password", "Choose a different password.")
    if "new_password" not in errors and new == current:
        errors["new_password"] = "Choose a password different from your current one."  # noqa: S105
    if new != confirm:
        errors["confirm_password"] = "The two new passwords are not the same."  # noqa: S105
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    account.password_hash = auth.hash_password(new)
    account.password_changed_at = now
    account.updated_at = now
    await session.flush()
    await auth.end_all_sessions(session, clock, account)
    return await auth.start_session(session, clock, account, signer=signer)


async def active_sessions(
    session: AsyncSession, clock: Clock, organiser: Organiser
) -> list[LoginSession]:
    """The organiser's signed-in browsers, newest first."""
    now = clock.now()
    rows = await session.execute(
        select(LoginSession)
        .where(
            LoginSession.organiser_id == organiser.id,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > now,
        )
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    )
    return list(rows.scalars())


async def api_tokens(session: AsyncSession, organiser: Organiser) -> list[ApiToken]:
    """The organiser's API tokens (revoked ones too, marked), newest first."""
    rows = await session.execute(
        select(ApiToken)
        .where(ApiToken.organiser_id == organiser.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(rows.scalars())


async def create_api_token(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, name: str, signer: Signer
) -> auth.NewApiToken:
    return await auth.create_api_token(session, clock, organiser, name=name, signer=signer)


async def revoke_api_token(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, token_id: int
) -> ApiToken:
    """Revoke one of the organiser's own tokens; another's is as absent as a missing one."""
    token = (
        await session.execute(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.organiser_id == organiser.id)
        )
    ).scalar_one_or_none()
    if token is None:
        raise NotFound("We could not find that token.")
    await auth.revoke_api_token(session, clock, organiser, token_id=token_id)
    await session.refresh(token)
    return token


async def api_token_user(
    session: AsyncSession, clock: Clock, token: str, *, signer: Signer
) -> Organiser | None:
    """The organiser behind a bearer token (noting when the token was used), or None."""
    organiser = await auth.api_token_organiser(session, clock, token, signer=signer)
    if organiser is None:
        return None
    await session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == signer.hash_token(Purpose.API, token))
        .values(last_used_at=clock.now())
    )
    return organiser
