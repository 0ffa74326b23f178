"""Who an organiser is: passwords (Argon2), login sessions and API tokens.

Session and API tokens are 256 random bits; the database keeps only their keyed hashes
(``kit.signing.Signer.hash_token``), so a copy of the database signs nobody in. A session
ends on the server (logout, password change, expiry): every copy of its cookie stops working.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.clock import Clock
from events.errors import Conflict, InvalidInput
from events.kit.signing import Purpose, Signer
from events.organiser.models import ApiToken, LoginSession, Organiser, OrganiserRole
from events.registration import tokens

SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
API_TOKEN_PREFIX = "evt_"  # noqa: S105 - a visible prefix, not a secret

# RFC 9106's second recommended profile (Argon2id, 64 MiB, 3 passes, 4 lanes): about a
# tenth of a second per guess here. Each hash records its own parameters, so a change of
# profile never locks anyone out.
PRODUCTION_PARAMETERS = profiles.RFC_9106_LOW_MEMORY


class _Passwords:
    def __init__(self, parameters: Parameters) -> None:
        self.hasher = PasswordHasher.from_parameters(parameters)
        self._dummy: str | None = None

    @property
    def dummy(self) -> str:
        # Verified against when the email is unknown, so a wrong email costs as long as a
        # wrong password and the timing does not tell which accounts exist.
        if self._dummy is None:
            self._dummy = self.hasher.hash("not a real password, for timing only")
        return self._dummy


_passwords = _Passwords(PRODUCTION_PARAMETERS)


def use_password_parameters(parameters: Parameters) -> None:
    """Hash new passwords with other Argon2 parameters. Only the test suite calls this
    (with argon2's CHEAPEST profile, so hundreds of sign-ins cost milliseconds, not
    minutes); the app and its commands always hash with ``PRODUCTION_PARAMETERS``."""
    global _passwords
    _passwords = _Passwords(parameters)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _passwords.hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            {"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."},
        )
    if len(password) > 1000:
        raise InvalidInput({"password": "Use at most 1,000 characters."})


def password_matches(organiser: Organiser | None, password: str) -> bool:
    """Constant work whether or not the account exists."""
    try:
        stored = organiser.password_hash if organiser else _passwords.dummy
        return _passwords.hasher.verify(stored, password) and organiser is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def organiser_by_email(session: AsyncSession, email: str) -> Organiser | None:
    return (
        await session.execute(select(Organiser).where(Organiser.email == normalise_email(email)))
    ).scalar_one_or_none()


async def create_organiser(
    session: AsyncSession,
    clock: Clock,
    *,
    email: str,
    password: str,
    role: OrganiserRole,
    name: str = "",
) -> Organiser:
    address = normalise_email(email)
    if "@" not in address or len(address) > 320:
        raise InvalidInput({"email": "Enter an email address like name@example.org."})
    check_password_rules(password)
    if await organiser_by_email(session, address) is not None:
        raise Conflict("An organiser with that email address already exists.", code="exists")
    now = clock.now()
    organiser = Organiser(
        email=address,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    session.add(organiser)
    await session.flush()
    return organiser


@dataclass(frozen=True)
class NewSession:
    token: str  # the raw value, for the cookie only
    row: LoginSession


async def start_session(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, signer: Signer
) -> NewSession:
    now = clock.now()
    token = tokens.new_token()
    row = LoginSession(
        organiser_id=organiser.id,
        token_hash=signer.hash_token(Purpose.SESSION, token),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        last_seen_at=now,
    )
    organiser.last_login_at = now
    session.add(row)
    await session.flush()
    return NewSession(token=token, row=row)


async def session_organiser(
    session: AsyncSession, clock: Clock, token: str, *, signer: Signer
) -> tuple[Organiser, LoginSession] | None:
    """The active organiser behind a session cookie, or None (ended, expired, unknown)."""
    if not tokens.plausible(token):
        return None
    digest = signer.hash_token(Purpose.SESSION, token)
    row = (
        await session.execute(
            select(LoginSession, Organiser)
            .join(Organiser, Organiser.id == LoginSession.organiser_id)
            .where(LoginSession.token_hash == digest)
        )
    ).one_or_none()
    if row is None:
        return None
    login, organiser = row
    now = clock.now()
    if (
        login.ended_at is not None
        or login.expires_at <= now
        or not organiser.active
        or not signer.matches(Purpose.SESSION, token, login.token_hash)
    ):
        return None
    return organiser, login


async def end_session(session: AsyncSession, clock: Clock, token: str, *, signer: Signer) -> None:
    if not tokens.plausible(token):
        return
    await session.execute(
        update(LoginSession)
        .where(
            LoginSession.token_hash == signer.hash_token(Purpose.SESSION, token),
            LoginSession.ended_at.is_(None),
        )
        .values(ended_at=clock.now())
    )


async def end_all_sessions(session: AsyncSession, clock: Clock, organiser: Organiser) -> None:
    await session.execute(
        update(LoginSession)
        .where(LoginSession.organiser_id == organiser.id, LoginSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


@dataclass(frozen=True)
class NewApiToken:
    token: str  # shown once, when created
    row: ApiToken


async def create_api_token(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, name: str, signer: Signer
) -> NewApiToken:
    label = name.strip()
    if not label or len(label) > 120:
        raise InvalidInput({"name": "Give the token a name of up to 120 characters."})
    token = API_TOKEN_PREFIX + tokens.new_token()
    row = ApiToken(
        organiser_id=organiser.id,
        name=label,
        token_hash=signer.hash_token(Purpose.API, token),
        prefix=token[:12],
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    return NewApiToken(token=token, row=row)


async def api_token_organiser(
    session: AsyncSession, clock: Clock, token: str, *, signer: Signer
) -> Organiser | None:
    """The active organiser behind a bearer token, or None (revoked, unknown)."""
    raw = token.removeprefix(API_TOKEN_PREFIX)
    if not token.startswith(API_TOKEN_PREFIX) or not tokens.plausible(raw):
        return None
    digest = signer.hash_token(Purpose.API, token)
    row = (
        await session.execute(
            select(ApiToken, Organiser)
            .join(Organiser, Organiser.id == ApiToken.organiser_id)
            .where(ApiToken.token_hash == digest)
        )
    ).one_or_none()
    if row is None:
        return None
    api_token, organiser = row
    if (
        api_token.revoked_at is not None
        or not organiser.active
        or not signer.matches(Purpose.API, token, api_token.token_hash)
    ):
        return None
    return organiser


async def revoke_api_token(
    session: AsyncSession, clock: Clock, organiser: Organiser, *, token_id: int
) -> None:
    """Revoke one of the organiser's own tokens (another's is as absent as a missing one)."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.organiser_id == organiser.id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
