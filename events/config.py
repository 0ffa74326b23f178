"""Settings: read once from ``EVENTS_*`` environment variables, validated, passed down.

Nothing else in the package reads ``os.environ``. ``load_settings()`` turns a validation
error into a ``ConfigError`` whose message is one line naming the variable, which the
command line prints before exiting.
"""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_FILE = ".events-secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32
# Sender domains no one outside this machine can reply to or check (RFC 2606, RFC 6761,
# RFC 6762); in production the sender must be a real address.
LOCAL_MAIL_DOMAINS = ("localhost", "invalid", "local")
# What the site calls itself where a name is all there is: calendars in people's calendar
# apps ("Union events: SEND", "My union events").
SITE_NAME = "Union events"


class ConfigError(Exception):
    """A setting is wrong; the message is one line meant for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVENTS_", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///events.sqlite3"
    secret_key: SecretStr | None = None
    # The public address links are made from. Unset, ``events serve`` uses the address it
    # serves (``served_base_url``); in production it must be set.
    base_url: str = "http://127.0.0.1:8000"
    # The site's name, as calendar apps show its feeds and downloads (``SITE_NAME``).
    site_name: Annotated[str, Field(min_length=1, max_length=60)] = SITE_NAME
    timezone: str = "Europe/London"
    # Pages whose content changes with registrations (listing, event page, API) are cached
    # per process for at most this long, so places-left is never staler than this.
    page_cache_seconds: Annotated[float, Field(ge=0, le=10)] = 1.0
    page_size: Annotated[int, Field(ge=1, le=200)] = 20
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Rate limits, counted in the database so that every process shares them.
    rate_limit_enabled: bool = True
    # One address is often a whole staffroom, union office or conference venue (one NAT or
    # proxy for hundreds of people), so the per-address count is only a ceiling against
    # floods: abuse is held back per email, per email and event, and by behaviour (the
    # honeypot). Validation errors count against nothing.
    rate_limit_per_address: Annotated[int, Field(ge=1)] = 1000  # registrations per window
    rate_limit_per_email: Annotated[int, Field(ge=1)] = 10  # one email, any events
    rate_limit_per_email_event: Annotated[int, Field(ge=1)] = 3  # one email, one event
    # Honeypot trips (a hidden field only form-filling robots fill) from one address; at
    # this many in a window, every registration from that address waits for the window.
    rate_limit_honeypot_per_address: Annotated[int, Field(ge=1)] = 3
    rate_limit_window_seconds: Annotated[int, Field(ge=1)] = 600
    # Write-API requests per organiser, and public API answers built (not from the cache)
    # per client address, in each rate-limit window.
    api_rate_limit: Annotated[int, Field(ge=1)] = 1200
    api_read_rate_limit: Annotated[int, Field(ge=1)] = 3000
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is
    # believed. Empty: the peer address is the client, whatever headers say.
    trusted_proxies: str = ""
    # A personal joining link starts redirecting this long before the event starts.
    joining_opens_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 30
    # Mail: where messages go. ``file:///folder`` writes one .eml per message (the default,
    # ./outbox); ``smtp://user:pass@host:587`` (STARTTLS when offered) or ``smtps://`` (TLS).
    mail_url: str = Field(default_factory=lambda: (Path.cwd() / "outbox").as_uri())
    # The sender; in production a real address (not @localhost), or the app will not start.
    mail_from: str = "Events <events@localhost>"
    # The outbox worker. In process: None means "yes on SQLite outside tests" (a newcomer's
    # ``events serve`` sends mail); deployments on PostgreSQL run ``events worker`` instead.
    worker_in_process: bool | None = None
    worker_batch_size: Annotated[int, Field(ge=1, le=1000)] = 50
    worker_lease_seconds: Annotated[int, Field(ge=10)] = 300
    worker_poll_seconds: Annotated[float, Field(gt=0, le=300)] = 2.0
    # Each worker writes a heartbeat this often; the claims of a worker whose heartbeat is
    # three beats old are taken over by another (a restarted worker takes back its dead
    # predecessor's on the same host at once), long before ``worker_lease_seconds``.
    worker_heartbeat_seconds: Annotated[float, Field(ge=1, le=300)] = 10.0
    mail_retry_base_seconds: Annotated[float, Field(gt=0)] = 60.0
    mail_retry_max_seconds: Annotated[float, Field(gt=0)] = 6 * 3600.0
    mail_max_attempts: Annotated[int, Field(ge=1, le=100)] = 10
    # A PEM file of CA certificates to trust for smtp:// STARTTLS and smtps:// (a private
    # relay's own CA); empty: the system's trust store.
    mail_ca_file: str = ""
    # Topic alerts: the local hour (in ``timezone``) from which daily digests go out, and
    # how many subscribe requests one email address may make per rate-limit window.
    alert_digest_hour: Annotated[int, Field(ge=0, le=23)] = 7
    alert_rate_limit_per_email: Annotated[int, Field(ge=1)] = 3
    # Organiser dashboard: a request for a BSL interpreter or live captions made less than
    # this many days before the event is flagged, as it may be too late to book.
    access_booking_lead_days: Annotated[int, Field(ge=0, le=365)] = 14
    # Feeds (public and private) keep an event this many days after it ends, then drop it,
    # so a feed does not grow for ever.
    feed_past_days: Annotated[int, Field(ge=0, le=3650)] = 365
    # Organiser sign-in throttling (counters in the database, shared by every process).
    # Failures are counted per account and per client address within a window; past the
    # free attempts each further failure doubles a delay (starting at the backoff), and at
    # the lock threshold the key is locked for the lock time. A success resets the account.
    login_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    login_account_free_attempts: Annotated[int, Field(ge=1)] = 5
    login_account_lock_after: Annotated[int, Field(ge=1)] = 10
    login_address_free_attempts: Annotated[int, Field(ge=1)] = 20
    login_address_lock_after: Annotated[int, Field(ge=1)] = 50
    login_backoff_seconds: Annotated[float, Field(gt=0, le=600)] = 2.0
    login_lock_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # Retention (UK GDPR): access requirements and other special category answers are purged
    # this many days after the event; whole registrations (all but anonymous counts) later.
    access_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    registration_retention_days: Annotated[int, Field(ge=1, le=36500)] = 730

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError(
                f"unsupported database {scheme or value!r}; use sqlite:///path or "
                "postgresql://user@host/dbname"
            )
        return value

    @field_validator("mail_url")
    @classmethod
    def _mail_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "file":
            if not parts.path:
                raise ValueError("a file:// mail URL needs a folder, e.g. file:///srv/outbox")
            return value
        if parts.scheme in {"smtp", "smtps"}:
            if not parts.hostname:
                raise ValueError(f"{parts.scheme}:// mail URL needs a host")
            try:
                parts.port  # noqa: B018 - raises on a malformed port
            except ValueError:
                raise ValueError("the mail URL's port is not a number") from None
            return value
        raise ValueError(
            f"unsupported mail URL {parts.scheme or value!r}; use file:///folder, "
            "smtp://user:pass@host:587 or smtps://user:pass@host:465"
        )

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        _name, address = parseaddr(value)
        if "@" not in address or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError(f"{value!r} is not an address, e.g. Events <events@example.org>")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (try Europe/London)") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secret_outside_dev(self) -> Settings:
        if self.env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"EVENTS_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random "
                    "characters in production"
                )
            if not routable_domain(parseaddr(self.mail_from)[1].rpartition("@")[2]):
                raise ValueError(
                    "EVENTS_MAIL_FROM must be a real sender address in production, e.g. "
                    f"Union events <events@example.org> (not {self.mail_from!r})"
                )
            if not self.base_url_configured:
                raise ValueError(
                    "EVENTS_BASE_URL must be set to the public address in production, e.g. "
                    "https://events.example.org (links in mail and the API are made from it)"
                )
        return self

    @property
    def base_url_configured(self) -> bool:
        """Whether ``EVENTS_BASE_URL`` (or an explicit ``base_url``) was given, rather than
        the default."""
        return "base_url" in self.model_fields_set

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ip_network(part, strict=False) for part in parts if part)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_worker_in_process(self) -> bool:
        """Whether ``events serve`` sends mail itself (see ``worker_in_process``)."""
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.is_sqlite and self.env != "test"

    def secret(self) -> str:
        """The signing secret. In development an unset key is generated once and kept in a
        local file, so sessions survive restarts without anyone choosing a key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.env == "production":  # pragma: no cover - refused by the validator
            raise ConfigError("EVENTS_SECRET_KEY is required in production")
        path = Path(DEV_SECRET_FILE)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def served_base_url(host: str, port: int) -> str:
    """The base URL for links when ``events serve --host HOST --port PORT`` runs without
    ``EVENTS_BASE_URL``: the address it serves, usable from a browser.

    A wildcard host (``0.0.0.0``, ``::`` or empty) is not an address anyone can visit, so
    links use the loopback address of the same family (``127.0.0.1``, ``[::1]``): the
    listener is certain to answer there, whereas the machine's host name may resolve to
    nothing (or to another interface) and would put the machine's name into mail sent to
    outsiders. Someone serving others on their network sets ``EVENTS_BASE_URL`` (and
    production must). IPv6 literals are bracketed, and a zone (``%eth0``) is escaped.
    """
    name = host.strip()
    try:
        address = ip_address(name.strip("[]"))
    except ValueError:
        address = None
    if not name or (address is not None and address.is_unspecified):
        name = "[::1]" if address is not None and address.version == 6 else "127.0.0.1"
    elif address is not None and address.version == 6:
        name = "[" + str(address).replace("%", "%25") + "]"
    return f"http://{name}:{port}"


def routable_domain(domain: str) -> bool:
    """Whether mail from ``domain`` can be answered and checked from elsewhere: a name with
    a dot that is not ``localhost``, ``.invalid`` or ``.local`` (or under them)."""
    name = domain.strip().rstrip(".").lower()
    if "." not in name and not name.startswith("["):
        return False
    return not any(name == d or name.endswith("." + d) for d in LOCAL_MAIL_DOMAINS)


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment (plus overrides), or raise a one-line ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        name = f"EVENTS_{field.upper()}" if field else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        if not field and message.startswith("EVENTS_"):
            raise ConfigError(message) from None  # a rule across settings names its own
        raise ConfigError(f"{name}: {message}") from None


def announce_served_base_url(host: str, port: int) -> str:
    """Make the served address the base URL of every app process ``events serve`` starts.

    uvicorn's ``--workers`` and ``--reload`` children (and this process), with their
    in-process mail workers, read their settings from the environment they inherit, so the
    environment is how they all learn it. Settings are the only code that touches it."""
    base_url = served_base_url(host, port)
    os.environ["EVENTS_BASE_URL"] = base_url
    return base_url
