"""The one place PayGate reads its configuration.

Every setting comes from a ``PAYGATE_*`` environment variable (a ``.env`` file in the
working directory fills in what the environment leaves unset) and is validated here,
at start-up: a missing or malformed value stops the process with a message naming the
variable, never echoing a secret. ``paygate check-config`` prints the result with
secrets masked. ``.env.example`` documents every variable.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import attrs
from attrs import AttrsInstance
from sqlalchemy.engine import make_url

from adapters.inbound.http.allowlist import NOWPAYMENTS_SENDERS, TELEGRAM_SENDERS
from adapters.outbound.alerts.email_sink import SmtpSecurity, SmtpSettings
from adapters.outbound.alerts.webhook_sink import WebhookSecret
from adapters.outbound.crypto.fernet_cipher import FernetCipher
from adapters.outbound.secrets.dotenv import load_dotenv
from adapters.outbound.sqla.engine import DatabaseTimeouts
from adapters.outbound.sqla.url import InvalidDatabaseUrl, database_url, safe_url
from composition.secret_source import SecretsKind, SecretSourceError, read_secrets
from core.domain.grant import GrantMode
from core.domain.intent_state import PAYING_CHOICES, IntentStatus
from core.domain.signing import MIN_KEY_BYTES, MacKeyring
from core.ports.alerts import Severity
from core.ports.security import Secret

T = TypeVar("T")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@attrs.frozen
class TelegramConfig:
    token: Secret | None
    api_url: str
    bot_username: str | None
    webhook_secret: Secret | None
    previous_webhook_secret: Secret | None
    admin_chat_id: int | None
    admin_calls_per_second: int = 30
    """Budget for administration calls (invite links, join approvals, removals), whose
    limits Telegram does not publish. Every new subscriber costs one invite link and
    one approval, so this caps how many payments a second are granted at once."""
    processes: int = 1
    """``PAYGATE_TELEGRAM_PROCESSES``: processes talking to Telegram for this bot. While
    the shared pacing in Redis is unavailable, each keeps to this share of every limit."""
    stars: bool = False
    """``PAYGATE_TELEGRAM_STARS``: the bot also sells tiers that have a Stars price for
    Telegram Stars (a second way to pay beside crypto)."""


@attrs.frozen
class NowPaymentsConfig:
    api_url: str
    api_key: Secret | None
    ipn_secret: Secret | None
    previous_ipn_secret: Secret | None
    account_email: str | None = None
    account_password: Secret | None = None
    """The merchant account's login: reconciliation lists an invoice's payments with
    it when no notification ever came. Both or neither."""


@attrs.frozen
class OidcConfig:
    """Telegram's OpenID Connect login on the dashboard (off without a client id)."""

    client_id: str | None = None
    """``PAYGATE_OIDC_CLIENT_ID``: the bot's id, as BotFather shows it for web login."""
    client_secret: Secret | None = None
    """``PAYGATE_OIDC_CLIENT_SECRET``: the client secret BotFather shows beside it."""
    issuer: str = "https://oauth.telegram.org"
    """``PAYGATE_OIDC_ISSUER``: the provider (its discovery document is under it)."""

    @property
    def enabled(self) -> bool:
        return self.client_id is not None


@attrs.frozen
class Config:
    environment: Environment
    database_url: str
    db_pool_size: int
    db_start_wait_seconds: float
    """``PAYGATE_DB_START_WAIT_SECONDS``: how long a starting process waits for a
    database it cannot reach yet (started after it, restarting) before giving up."""
    """``PAYGATE_DB_POOL_SIZE``: database connections each process keeps for reuse;
    a burst may open as many again, closed when returned."""
    redis_url: str | None
    http_host: str
    http_port: int
    public_url: str | None
    trusted_proxies: tuple[IpNetwork, ...]
    telegram: TelegramConfig
    nowpayments: NowPaymentsConfig
    encryption_keys: Secret
    mac_keys: Secret
    job_keys: Secret | None
    paying_status: IntentStatus
    underpayment_tolerance: Decimal
    grant_mode: GrantMode
    reminder_leads_hours: tuple[int, ...]
    grace: timedelta
    sweep_every: timedelta
    broadcast_every: timedelta
    dispatch_every: timedelta
    reconcile_every: timedelta
    rights_check_every: timedelta = timedelta(minutes=1)
    """``PAYGATE_RIGHTS_CHECK_EVERY_SECONDS``: how often the worker re-checks the bot's
    rights (paused channels each time, selling ones every 15th time)."""
    sellers: tuple[int, ...] = ()
    """``PAYGATE_SELLERS``: Telegram user ids that may own channels; empty (or
    ``anyone``), anyone may, unless ``sellers_by_approval``."""
    http_header_timeout: float = 10.0
    """``PAYGATE_HTTP_HEADER_TIMEOUT_SECONDS``: a new connection's first request head
    must be complete within this, or the connection is closed."""
    http_body_timeout: float = 15.0
    """``PAYGATE_HTTP_BODY_TIMEOUT_SECONDS``: a request body must arrive within this (408)."""
    http_keepalive_timeout: float = 15.0
    """``PAYGATE_HTTP_KEEPALIVE_SECONDS``: a connection with no complete request within
    this, idle or trickling, is closed."""
    http_max_connections: int = 1000
    """``PAYGATE_HTTP_MAX_CONNECTIONS``: client connections held at once, at most."""
    http_max_connections_per_client: int = 64
    """``PAYGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT``: from one address (IPv6: one /64)."""
    http_reserved_connections: int = 100
    """``PAYGATE_HTTP_RESERVED_CONNECTIONS``: of the most, those only webhook senders
    (trusted proxies, the providers' published addresses) may take."""
    clock_offset_file: Path | None = None
    db_statement_timeout_seconds: float = 1.0
    """``PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS``: how long one statement, or its wait
    for a lock (SQLite: for the write lock), may take before the work fails as
    unavailable (a payment notification answers 503 and the provider resends)."""
    db_connect_timeout_seconds: float = 1.0
    """``PAYGATE_DB_CONNECT_TIMEOUT_SECONDS``: how long to open a database connection,
    or wait for a pooled one. With the statement timeout, under NowPayments' 3 s."""
    # --- operator's surface (alerts, allowlists, operators)
    alerts: AlertConfig = attrs.field(factory=lambda: AlertConfig())
    allowlists: EdgeAllowlists = attrs.field(factory=lambda: EdgeAllowlists())
    operators: tuple[int, ...] = ()
    """``PAYGATE_OPERATOR_IDS``: Telegram user ids of the deployment's operators."""
    sellers_by_approval: bool = False
    """``PAYGATE_SELLERS=approval[,ids]``: besides the listed ids, whoever the operators
    approve in the bot may own channels; anyone else who tries files a request."""
    # --- end operator's surface
    # ---- secret stores and their refresh (issue 18, secrets) -------------------------
    secrets: SecretsKind = SecretsKind.ENV
    """``PAYGATE_SECRETS``: where the secret settings are read (env, files, gsm)."""
    secrets_refresh: timedelta = timedelta(minutes=5)
    """``PAYGATE_SECRETS_REFRESH_SECONDS``: how often a running process re-reads its
    secrets (and on SIGHUP); 0: on SIGHUP only."""
    # ---- observability (issue 18): the ops port of worker and bot ----------------
    ops_host: str = "127.0.0.1"
    """``PAYGATE_OPS_HOST``: where a ``worker`` or ``bot`` serves /healthz, /readyz
    and /metrics (this host only by default)."""
    ops_port: int | None = None
    """``PAYGATE_OPS_PORT``: the port of those; unset, none is served (several
    workers share a host and an environment file: each is given its own); 0, any
    free port (the log says which). A process with the web role serves them on
    PAYGATE_HTTP_PORT instead."""
    # ---- end observability
    # ---- dashboard (issue 20) ------------------------------------------------------------
    dashboard: bool = True
    """``PAYGATE_DASHBOARD``: ``on`` serves the owners' dashboard under ``/dashboard``
    (login only from the bot's signed link); ``off`` serves none of it."""
    alert_history_days: int = 30
    """``PAYGATE_ALERT_HISTORY_DAYS``: how long the dashboard's Alerts section keeps
    each alert (1..365 days); older ones are forgotten as new ones are recorded."""
    oidc: OidcConfig = attrs.field(factory=lambda: OidcConfig())
    """``PAYGATE_OIDC_*``: "Log in with Telegram" on the dashboard's sign-in page."""
    # ---- end dashboard --------------------------------------------------------------------
    # ---- the HTTP API (issue 20) -----------------------------------------------------------
    api: bool = False
    """``PAYGATE_API``: ``on`` serves the JSON API under ``/api/v1`` (and its tokens page
    in the dashboard, which it needs on)."""
    api_signing_keys: Secret | None = None
    """``PAYGATE_API_SIGNING_KEYS``: base64 keys of 32+ bytes, newest first, that sign
    the API's access tokens (the first signs, every one is accepted)."""
    # ---- end the HTTP API --------------------------------------------------------------------

    @property
    def api_keys(self) -> tuple[bytes, ...]:
        """``PAYGATE_API_SIGNING_KEYS``, parsed: newest first; empty when unset."""
        if self.api_signing_keys is None:
            return ()
        return _api_keys(self.api_signing_keys)

    @property
    def mac_key_entries(self) -> tuple[MacKeyEntry, ...]:
        """``PAYGATE_MAC_KEYS``, parsed: newest first, retiring keys with their date."""
        return _mac_keys(self.mac_keys)

    def keyring_at(self, now: datetime) -> MacKeyring:
        """The MAC keys accepted at ``now``: every key but those retired by then."""
        return MacKeyring(tuple(e.key for e in self.mac_key_entries if e.accepted_at(now)))

    @property
    def keyring(self) -> MacKeyring:
        """Every MAC key, retiring ones included (tests; processes use keyring_at)."""
        return MacKeyring(tuple(entry.key for entry in self.mac_key_entries))

    # ---- end secret stores --------------------------------------------------------------

    @property
    def job_signing_keys(self) -> dict[str, Secret]:
        """``PAYGATE_JOB_KEYS``: ``key-id:secret`` pairs, comma-separated, for schedulers
        that trigger jobs with signed requests."""
        keys: dict[str, Secret] = {}
        if self.job_keys is None:
            return keys
        for position, pair in enumerate(self.job_keys.reveal().split(","), start=1):
            key_id, _, secret = pair.strip().partition(":")
            if not key_id or len(secret) < 32:
                raise ConfigError(
                    f"PAYGATE_JOB_KEYS: entry {position} must be key-id:secret "
                    "with a secret of 32+ characters"
                )
            keys[key_id] = Secret(secret)
        return keys

    @property
    def db_timeouts(self) -> DatabaseTimeouts:
        return DatabaseTimeouts(
            statement=self.db_statement_timeout_seconds, connect=self.db_connect_timeout_seconds
        )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def require(self, *names: str) -> None:
        """Stop a process that needs settings this configuration lacks."""
        needs = {
            "telegram": ("PAYGATE_TELEGRAM_BOT_TOKEN", self.telegram.token),
            "nowpayments": ("PAYGATE_NOWPAYMENTS_API_KEY", self.nowpayments.api_key),
            "ipn": ("PAYGATE_NOWPAYMENTS_IPN_SECRET", self.nowpayments.ipn_secret),
        }
        for name in names:
            variable, value = needs[name]
            if value is None:
                raise ConfigError(f"{variable} is not set and this process needs it")

    @property
    def callback_base(self) -> str:
        """Where providers reach our webhooks: the public URL, else our own listener."""
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret as it may show up in a log line, for the log
        redactor: each secret whole and each entry of a list of them (keys newest
        first, ``key-id:secret`` job keys), and the passwords inside the database and
        Redis URLs."""
        values: set[str] = set()
        for _, value in _flatten(self):
            if not isinstance(value, Secret):
                continue
            whole = value.reveal()
            values.add(whole)
            for entry in whole.split(","):
                values.update({entry.strip(), entry.partition(":")[2].strip()})
                values.add(entry.partition("@")[0].strip())  # a retiring MAC key
        values.add(make_url(self.database_url).password or "")
        if self.redis_url is not None:
            values.add(urlsplit(self.redis_url).password or "")
        return tuple(sorted(value for value in values if value))

    def masked(self) -> dict[str, str]:
        """Every effective setting, secrets shown only as set / not set."""
        out: dict[str, str] = {}
        for name, value in _flatten(self):
            if name == "mac_keys":
                out[name] = _masked_mac_keys(self.mac_key_entries)
            elif isinstance(value, Secret):
                out[name] = "*** (set)"
            elif name in ("dashboard", "api"):
                out[name] = "on" if value else "off"
            elif value is None:
                out[name] = "(not set)"
            elif name == "database_url":
                out[name] = safe_url(str(value))
            elif isinstance(value, str) and "://" in value:
                out[name] = masked_url(value)
            elif isinstance(value, tuple):
                out[name] = ",".join(str(v) for v in value) or "(none)"
            else:
                out[name] = str(value)
        return out


def _flatten(obj: AttrsInstance, prefix: str = "") -> Iterator[tuple[str, object]]:
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        # Nested settings (Telegram, NowPayments, alerts, allowlists) by dotted name.
        if attrs.has(type(value)) and not isinstance(value, Secret):
            yield from _flatten(value, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", value


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def raw(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def optional(self, name: str) -> str | None:
        return self.raw(name)

    def secret(self, name: str) -> Secret | None:
        value = self.raw(name)
        return None if value is None else Secret(value)

    def required_secret(self, name: str, hint: str) -> Secret:
        value = self.secret(name)
        if value is None:
            raise ConfigError(f"{name} is not set: {hint}")
        return value

    def parsed(self, name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except (ValueError, InvalidOperation) as exc:
            raise ConfigError(f"{name} must be {expected}, got {value!r}") from exc


def _check_oidc(config: Config) -> None:
    """The web login takes its client id and secret together, over HTTPS in production."""
    oidc = config.oidc
    if oidc.client_id is not None and oidc.client_secret is None:
        raise ConfigError(
            "PAYGATE_OIDC_CLIENT_SECRET is not set: Log in with Telegram "
            "(PAYGATE_OIDC_CLIENT_ID) needs the client secret BotFather shows beside it"
        )
    if oidc.client_id is None and oidc.client_secret is not None:
        raise ConfigError(
            "PAYGATE_OIDC_CLIENT_ID is not set: PAYGATE_OIDC_CLIENT_SECRET is of no use without it"
        )
    if oidc.client_id is not None and config.is_production:
        if config.public_url is None:
            raise ConfigError(
                "PAYGATE_PUBLIC_URL is not set: Log in with Telegram returns the browser to "
                "PAYGATE_PUBLIC_URL/dashboard/oidc/callback"
            )
        if not oidc.issuer.startswith("https://"):
            raise ConfigError("PAYGATE_OIDC_ISSUER must be https:// in production")


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not an http(s) URL")
    return value.rstrip("/")


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError("out of range")
    return port


def _ops_port(value: str) -> int:
    # 0: any free port, which the start log names (tests, one-off runs).
    return 0 if value.strip() == "0" else _port(value)


def _cidrs(value: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


def _hours(value: str) -> tuple[int, ...]:
    hours = tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
    if any(h <= 0 for h in hours):
        raise ValueError("lead times are positive")
    return hours


def _switch(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("on", "off", "true", "false", "1", "0"):
        raise ValueError("must be on or off")
    return word in ("on", "true", "1")


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be positive")
    return number


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")
"""What Telegram allows in ``secret_token`` (1-256 of A-Z a-z 0-9 _ -), and at least
32 characters: about 190 bits when generated, not something guessed or brute-forced
through the webhook."""


def _check_webhook_secret(name: str, secret: Secret | None) -> None:
    """Refuse a webhook secret Telegram would refuse or an attacker could guess. The
    message names the variable and never echoes the value."""
    if secret is None:
        return
    value = secret.reveal()
    if _WEBHOOK_SECRET.fullmatch(value):
        return
    if re.fullmatch(r"[A-Za-z0-9_-]*", value) is None:
        problem = "has characters Telegram does not allow"
    else:
        problem = f"is {len(value)} characters long"
    raise ConfigError(
        f"{name} {problem}: it must be 32-256 characters of A-Z a-z 0-9 _ - "
        "(paygate keys new-webhook-secret makes one)"
    )


def _whole_in(low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number in ``low..high``."""

    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError("out of range")
        return number

    return parse


def _seconds_in(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """A parser of seconds in ``low..high`` (``above_low``: ``low`` itself excluded).
    The comparisons also refuse nan and inf."""

    def parse(value: str) -> float:
        seconds = float(value)
        inside = low < seconds <= high if above_low else low <= seconds <= high
        if not inside:
            raise ValueError("out of range")
        return seconds

    return parse


_processes = _whole_in(1, 100)
_start_wait = _seconds_in(0, 600)
_db_timeout = _seconds_in(0.05, 600)
"""Under 0.05 s ordinary statements would fail; over 10 minutes nothing is bounded."""
_pool_size = _whole_in(1, 100)
"""The cap catches a stray digit before one process takes every connection a
Postgres server allows by default (100)."""
_timeout_seconds = _seconds_in(0, 3600, above_low=True)
_connections = _whole_in(1, 1_000_000)


def _rights_check_every(value: str) -> timedelta:
    # Each run asks Telegram about every paused channel: under a second would spend
    # the bot's request budget on it; over a day leaves a false pause standing too long.
    return timedelta(seconds=_seconds_in(1, 86_400)(value))


def _positive_seconds(value: str) -> timedelta:
    seconds = float(value)
    if seconds <= 0:
        raise ValueError("must be positive")
    return timedelta(seconds=seconds)


def _alert_history_days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= 365:
        raise ValueError("out of range")
    return days


def _on_off(value: str) -> bool:
    switch = value.strip().lower()
    if switch not in ("on", "off"):
        raise ValueError(value)
    return switch == "on"


def _user_ids(value: str) -> tuple[int, ...]:
    users = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
    if any(user <= 0 for user in users):
        raise ValueError("Telegram user ids are positive")
    return users


def _tolerance(value: str) -> Decimal:
    tolerance = Decimal(value)
    if not Decimal(0) <= tolerance <= Decimal("0.5"):
        raise ValueError("out of range")
    return tolerance


def _paying(value: str) -> IntentStatus:
    status = IntentStatus(value)
    if status not in PAYING_CHOICES:
        raise ValueError("not a paying status")
    return status


@attrs.frozen(repr=False)
class MacKeyEntry:
    """One key of ``PAYGATE_MAC_KEYS``: ``until`` None, accepted for good; else a
    retiring key, accepted (never signed with) before that instant."""

    key: bytes
    until: datetime | None = None

    def accepted_at(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def __repr__(self) -> str:
        return f"MacKeyEntry(<key>, until={self.until})"


def _until(text: str) -> datetime:
    """``2025-07-01`` (that day's start, UTC) or an ISO 8601 instant with its offset
    (``2025-07-01T12:00Z``); a time without an offset is refused, being ambiguous."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError("a time needs its offset, such as Z or +02:00")
    return instant.astimezone(UTC)


def _mac_keys(secret: Secret) -> tuple[MacKeyEntry, ...]:
    """``KEY[@UNTIL],...``: base64url keys, newest first; an older key may end in
    ``@`` and a date or instant after which it is no longer accepted (``@`` is not a
    base64url character, so it cannot be part of a key)."""
    entries: list[MacKeyEntry] = []
    for position, part in enumerate(secret.reveal().split(","), start=1):
        encoded, at, until_text = (piece.strip() for piece in part.partition("@"))
        until: datetime | None = None
        if at:
            if position == 1:
                raise ConfigError(
                    "PAYGATE_MAC_KEYS: key 1 signs new tags and cannot retire; "
                    "put the new key first and the retiring one after it with @date"
                )
            try:
                until = _until(until_text)
            except ValueError as exc:
                raise ConfigError(
                    f"PAYGATE_MAC_KEYS: key {position} ends in @ but not a date such as "
                    "2025-07-01 or an instant such as 2025-07-01T12:00Z"
                ) from exc
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"PAYGATE_MAC_KEYS: key {position} is not base64") from exc
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"PAYGATE_MAC_KEYS: key {position} is {len(key)} bytes, at least {MIN_KEY_BYTES}"
            )
        entries.append(MacKeyEntry(key, until))
    return tuple(entries)


def _api_keys(secret: Secret) -> tuple[bytes, ...]:
    """``KEY,...``: base64url keys of 32+ bytes, newest first."""
    keys: list[bytes] = []
    for position, part in enumerate(secret.reveal().split(","), start=1):
        encoded = part.strip()
        try:
            key = base64.b64decode(
                encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True
            )
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"PAYGATE_API_SIGNING_KEYS: key {position} is not base64") from exc
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"PAYGATE_API_SIGNING_KEYS: key {position} is {len(key)} bytes, "
                f"at least {MIN_KEY_BYTES} (paygate keys new-mac makes one)"
            )
        keys.append(key)
    return tuple(keys)


def _masked_mac_keys(entries: tuple[MacKeyEntry, ...]) -> str:
    retiring = [f"until {e.until.isoformat()}" for e in entries if e.until is not None]
    return f"*** ({len(entries)} keys" + "".join(f"; one {r}" for r in retiring) + ")"


def _refresh_seconds(value: str) -> timedelta:
    # 0 turns the timer off (SIGHUP only); under 10 s would hammer a paid secret
    # manager for nothing; over a day, a rotation would wait too long.
    seconds = float(value)
    if seconds != 0 and not 10 <= seconds <= 86_400:
        raise ValueError("out of range")
    return timedelta(seconds=seconds)


# ---------------------------------------------------------------- operator's surface
# Alerts, allowlists and private endpoints, operators (PAYGATE_ALERT_*,
# PAYGATE_ALLOWLIST_*, PAYGATE_PRIVATE_ALLOWLIST, PAYGATE_OPERATOR_IDS).

LOOPBACK: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
"""Where /metrics and the job trigger answer by default in production: this host only
(a sidecar, an SSH tunnel, a proxy on the same machine). A scraper elsewhere is named
in PAYGATE_PRIVATE_ALLOWLIST."""


@attrs.frozen
class SmtpAlertConfig:
    """``PAYGATE_ALERT_SMTP_*``: alerts by email."""

    settings: SmtpSettings
    ca_file: Path | None
    """``PAYGATE_ALERT_SMTP_CA_FILE``: trust this CA (PEM) for the server's certificate
    instead of the system's authorities (a private relay)."""
    min_severity: Severity


@attrs.frozen
class WebhookAlertConfig:
    """``PAYGATE_ALERT_WEBHOOK_*``: alerts as Standard Webhooks."""

    url: Secret
    """A Secret: receivers often put a token in the URL."""
    secret: Secret
    min_severity: Severity


@attrs.frozen
class AlertConfig:
    telegram_min_severity: Severity = Severity.WARNING
    """``PAYGATE_ALERT_TELEGRAM_MIN_SEVERITY``: for the admin chat (or the operators)."""
    log_min_severity: Severity = Severity.INFO
    """``PAYGATE_ALERT_LOG_MIN_SEVERITY``."""
    email: SmtpAlertConfig | None = None
    webhook: WebhookAlertConfig | None = None
    repeat_window: timedelta = timedelta(minutes=10)
    """``PAYGATE_ALERT_REPEAT_WINDOW_SECONDS``: one alert key fires once per window."""


@attrs.frozen
class EdgeAllowlists:
    """Per-route CIDR allowlists; None is off (anyone may connect)."""

    nowpayments: tuple[IpNetwork, ...] | None = None
    """``PAYGATE_ALLOWLIST_NOWPAYMENTS``: who may post payment notifications."""
    telegram: tuple[IpNetwork, ...] | None = None
    """``PAYGATE_ALLOWLIST_TELEGRAM``: who may post bot updates."""
    private: tuple[IpNetwork, ...] | None = None
    """``PAYGATE_PRIVATE_ALLOWLIST``: who may read /metrics and trigger jobs."""


def _severity(value: str) -> Severity:
    return Severity(value.lower())


def _sender_list(published: tuple[IpNetwork, ...]) -> Callable[[str], tuple[IpNetwork, ...] | None]:
    """``off``, ``published`` (the provider's documented addresses) or CIDRs."""

    def parse(value: str) -> tuple[IpNetwork, ...] | None:
        if value.lower() == "off":
            return None
        if value.lower() == "published":
            return tuple(published)
        networks = _cidrs(value)
        if not networks:
            raise ValueError("no CIDR given")
        return networks

    return parse


def _private_list(value: str) -> tuple[IpNetwork, ...] | None:
    if value.lower() == "any":
        return None
    networks = _cidrs(value)
    if not networks:
        raise ValueError("no CIDR given")
    return networks


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _read_allowlists(r: _Reader, environment: Environment) -> EdgeAllowlists:
    sender_help = "off, published, or comma-separated CIDRs"
    private_default = LOOPBACK if environment is Environment.PRODUCTION else None
    return EdgeAllowlists(
        nowpayments=r.parsed(
            "PAYGATE_ALLOWLIST_NOWPAYMENTS", None, _sender_list(NOWPAYMENTS_SENDERS), sender_help
        ),
        telegram=r.parsed(
            "PAYGATE_ALLOWLIST_TELEGRAM", None, _sender_list(TELEGRAM_SENDERS), sender_help
        ),
        private=r.parsed(
            "PAYGATE_PRIVATE_ALLOWLIST",
            private_default,
            _private_list,
            "any, or comma-separated CIDRs such as 10.0.0.0/8",
        ),
    )


def _read_smtp(r: _Reader) -> SmtpAlertConfig | None:
    host = r.optional("PAYGATE_ALERT_SMTP_HOST")
    if host is None:
        for name in ("PAYGATE_ALERT_SMTP_TO", "PAYGATE_ALERT_SMTP_FROM"):
            if r.raw(name) is not None:
                raise ConfigError(f"{name} is set but PAYGATE_ALERT_SMTP_HOST is not")
        return None
    security = r.parsed(
        "PAYGATE_ALERT_SMTP_SECURITY", SmtpSecurity.STARTTLS, SmtpSecurity, "starttls, tls or none"
    )
    default_port = 465 if security is SmtpSecurity.TLS else 587
    port = r.parsed("PAYGATE_ALERT_SMTP_PORT", default_port, _port, "a TCP port (1-65535)")
    sender = r.raw("PAYGATE_ALERT_SMTP_FROM")
    if sender is None:
        raise ConfigError("PAYGATE_ALERT_SMTP_FROM is not set: the sender address of alert emails")
    recipients = _addresses(r.raw("PAYGATE_ALERT_SMTP_TO") or "")
    if not recipients:
        raise ConfigError("PAYGATE_ALERT_SMTP_TO is not set: comma-separated recipient addresses")
    username = r.optional("PAYGATE_ALERT_SMTP_USERNAME")
    password = r.secret("PAYGATE_ALERT_SMTP_PASSWORD")
    try:
        settings = SmtpSettings(
            host=host,
            port=port,
            sender=sender,
            recipients=recipients,
            security=security,
            username=username,
            password=password,
            timeout=r.parsed(
                "PAYGATE_ALERT_SMTP_TIMEOUT_SECONDS",
                10.0,
                _seconds_in(0, 120, above_low=True),
                "seconds in (0, 120]",
            ),
        )
    except ValueError as exc:
        # The settings' own words; they name no secret (the password is never quoted).
        raise ConfigError(f"PAYGATE_ALERT_SMTP_*: {exc}") from exc
    ca_file = r.parsed("PAYGATE_ALERT_SMTP_CA_FILE", None, Path, "a file path")
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"PAYGATE_ALERT_SMTP_CA_FILE: no such file: {ca_file}")
    return SmtpAlertConfig(
        settings,
        ca_file,
        r.parsed("PAYGATE_ALERT_SMTP_MIN_SEVERITY", Severity.WARNING, _severity, _SEVERITY_HELP),
    )


_SEVERITY_HELP = "info, warning or critical"


def _read_webhook(r: _Reader) -> WebhookAlertConfig | None:
    url = r.secret("PAYGATE_ALERT_WEBHOOK_URL")
    secret = r.secret("PAYGATE_ALERT_WEBHOOK_SECRET")
    if url is None and secret is None:
        return None
    if url is None or secret is None:
        missing = "PAYGATE_ALERT_WEBHOOK_URL" if url is None else "PAYGATE_ALERT_WEBHOOK_SECRET"
        raise ConfigError(
            f"{missing} is not set: webhook alerts take both PAYGATE_ALERT_WEBHOOK_URL and "
            "PAYGATE_ALERT_WEBHOOK_SECRET (whsec_ + base64 of 24-64 random bytes), or neither"
        )
    try:
        _url(url.reveal())
    except ValueError:
        raise ConfigError("PAYGATE_ALERT_WEBHOOK_URL must be an http(s) URL") from None
    try:
        WebhookSecret.parse(secret)
    except ValueError as exc:
        raise ConfigError(f"PAYGATE_ALERT_WEBHOOK_SECRET: {exc}") from None
    return WebhookAlertConfig(
        url,
        secret,
        r.parsed("PAYGATE_ALERT_WEBHOOK_MIN_SEVERITY", Severity.WARNING, _severity, _SEVERITY_HELP),
    )


def _read_alerts(r: _Reader) -> AlertConfig:
    return AlertConfig(
        telegram_min_severity=r.parsed(
            "PAYGATE_ALERT_TELEGRAM_MIN_SEVERITY", Severity.WARNING, _severity, _SEVERITY_HELP
        ),
        log_min_severity=r.parsed(
            "PAYGATE_ALERT_LOG_MIN_SEVERITY", Severity.INFO, _severity, _SEVERITY_HELP
        ),
        email=_read_smtp(r),
        webhook=_read_webhook(r),
        repeat_window=r.parsed(
            "PAYGATE_ALERT_REPEAT_WINDOW_SECONDS",
            timedelta(minutes=10),
            lambda v: timedelta(seconds=_seconds_in(0, 86_400)(v)),
            "seconds in 0..86400",
        ),
    )


_SELLERS_HELP = (
    "anyone, comma-separated Telegram user ids such as 1001,1002, or approval "
    "(optionally with ids: approval,1001,1002)"
)


def _seller_rule(value: str) -> tuple[tuple[int, ...], bool]:
    words = [part.strip().lower() for part in value.split(",") if part.strip()]
    if words == ["anyone"]:
        return (), False
    approval = "approval" in words
    return _user_ids(",".join(w for w in words if w != "approval")), approval


def _read_sellers(r: _Reader) -> tuple[tuple[int, ...], bool]:
    """``PAYGATE_SELLERS``: who may own channels, and whether others may ask."""
    anyone: tuple[tuple[int, ...], bool] = ((), False)
    return r.parsed("PAYGATE_SELLERS", anyone, _seller_rule, _SELLERS_HELP)


def _check_sellers(config: Config) -> None:
    if config.sellers_by_approval and not config.operators:
        raise ConfigError(
            "PAYGATE_SELLERS=approval needs PAYGATE_OPERATOR_IDS: set the Telegram user ids "
            "of the operators who approve sellers"
        )


# ---------------------------------------------------------------- end operator's surface


# --- never silently wrong (issue 18) ---


def settings_environment(
    env: Mapping[str, str] | None = None, dotenv: Path | None = None
) -> dict[str, str]:
    """The variables every command reads: ``.env`` in the working directory (or
    ``dotenv``), overridden by the environment (or ``env``)."""
    merged: dict[str, str] = {}
    dotenv_path = Path(".env") if dotenv is None else dotenv
    if dotenv_path.is_file():
        try:
            merged.update(load_dotenv(dotenv_path))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    merged.update(os.environ if env is None else env)
    return merged


def masked_url(url: str) -> str:
    """``url`` with the password inside it (``redis://:pw@host``,
    ``postgresql://user:pw@host``) shown as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _redis_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "unix" and parts.path:
        return value
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("not a Redis URL")
    parts.port  # noqa: B018 - a port that is not a number raises ValueError here
    return value


def _check_keys_are_distinct(config: Config) -> None:
    """Both kinds are 32 random bytes in base64, so either parses as the other: a key
    in both variables is one pasted into the wrong one."""

    def keys(secret: Secret) -> set[str]:
        return {part.strip().rstrip("=") for part in secret.reveal().split(",") if part.strip()}

    if keys(config.mac_keys) & keys(config.encryption_keys):
        raise ConfigError(
            "PAYGATE_MAC_KEYS and PAYGATE_ENCRYPTION_KEYS share a key: each needs its own "
            "(paygate keys new-mac, paygate keys new-fernet)"
        )


def _check_api(config: Config) -> None:
    """The API needs its signing keys, and the dashboard where its tokens are made."""
    config.api_keys  # noqa: B018 - validates PAYGATE_API_SIGNING_KEYS whenever set
    if not config.api:
        return
    if config.api_signing_keys is None:
        raise ConfigError(
            "PAYGATE_API_SIGNING_KEYS is not set and PAYGATE_API=on needs it "
            "(paygate keys new-mac makes a key)"
        )
    if not config.dashboard:
        raise ConfigError(
            "PAYGATE_API=on needs PAYGATE_DASHBOARD=on: API tokens are made in the dashboard"
        )
    shared = {k.strip().rstrip("=") for k in config.api_signing_keys.reveal().split(",")}
    for variable, other in (
        ("PAYGATE_MAC_KEYS", config.mac_keys),
        ("PAYGATE_ENCRYPTION_KEYS", config.encryption_keys),
    ):
        if shared & {k.strip().rstrip("=") for k in other.reveal().split(",")}:
            raise ConfigError(
                f"PAYGATE_API_SIGNING_KEYS and {variable} share a key: each needs its own"
            )


ROLES = ("run", "web", "bot", "worker")
"""The processes ``check-config --for`` checks the settings of."""


def check_role(config: Config, role: str, *, credentials: bool = True) -> list[str]:
    """What ``role`` needs of ``config``: raises ConfigError (one line, naming the
    variable and the fix) for what stops it, returns warnings for what it can run
    without in development.

    Every role builds the Telegram client and the NowPayments gateway, so each needs
    the bot token, the API key and the IPN secret. ``run`` and ``bot`` create invoices,
    whose IPN callback must be reachable from NowPayments: without PAYGATE_PUBLIC_URL,
    refused in production. A public URL means Telegram webhooks for ``run`` (it has
    no separate poller) and for ``web`` in production: without a webhook secret the
    updates would go nowhere.

    ``credentials=False`` leaves the credentials to the process, which asks for them
    once the database is known to be at its schema (that refusal comes first)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if credentials:
        config.require("telegram", "nowpayments", "ipn")
    warnings: list[str] = []
    if role in ("run", "bot") and config.public_url is None:
        problem = (
            "PAYGATE_PUBLIC_URL is not set: NowPayments cannot reach the IPN callback "
            f"{config.callback_base}/webhooks/nowpayments; set it to this deployment's "
            "public https:// address"
        )
        if config.is_production:
            raise ConfigError(problem)
        warnings.append(problem + " (development: payments are only seen by reconciliation)")
    if (
        role in ("run", "web")
        and config.public_url is not None
        and config.telegram.webhook_secret is None
    ):
        problem = (
            "PAYGATE_PUBLIC_URL is set but PAYGATE_TELEGRAM_WEBHOOK_SECRET is not: Telegram "
            "updates cannot be taken by webhook; set it (paygate keys new-webhook-secret)"
        )
        if role == "run" or config.is_production:
            raise ConfigError(problem)
        warnings.append(problem + ", or run `paygate bot` to poll")
    warnings.extend(_web_login_warnings(config, role))  # dashboard (issue 20)
    return warnings


def _web_login_warnings(config: Config, role: str) -> list[str]:
    """What "Log in with Telegram" will do in ``role``, when it is configured."""
    if role not in ("run", "web") or not config.oidc.enabled:
        return []
    if not config.dashboard:
        return ["PAYGATE_OIDC_CLIENT_ID is set but PAYGATE_DASHBOARD is off: no sign-in page"]
    if config.public_url is None:
        return [
            "PAYGATE_PUBLIC_URL is not set: Log in with Telegram returns browsers to "
            f"{config.callback_base}/dashboard/oidc/callback, which only this host reaches"
        ]
    return []


# --- end never silently wrong ---


def load_config(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Config:
    """Read and validate every setting. Raises ConfigError naming the variable."""
    merged = settings_environment(env, dotenv)
    try:
        merged.update(read_secrets(merged))
    except SecretSourceError as exc:
        raise ConfigError(str(exc)) from exc
    r = _Reader(merged)
    try:
        # Not str(): SQLAlchemy renders the password as *** there, and the engine
        # would log in with that.
        db = database_url(merged).render_as_string(hide_password=False)
    except InvalidDatabaseUrl as exc:
        raise ConfigError(str(exc)) from exc
    config = Config(
        environment=r.parsed(
            "PAYGATE_ENV", Environment.DEVELOPMENT, Environment, "development or production"
        ),
        database_url=db,
        db_pool_size=r.parsed(
            "PAYGATE_DB_POOL_SIZE", 5, _pool_size, "a whole number of connections in 1..100"
        ),
        db_start_wait_seconds=r.parsed(
            "PAYGATE_DB_START_WAIT_SECONDS", 30.0, _start_wait, "seconds in 0..600"
        ),
        db_statement_timeout_seconds=r.parsed(
            "PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS", 1.0, _db_timeout, "seconds in 0.05..600"
        ),
        db_connect_timeout_seconds=r.parsed(
            "PAYGATE_DB_CONNECT_TIMEOUT_SECONDS", 1.0, _db_timeout, "seconds in 0.05..600"
        ),
        redis_url=r.parsed("PAYGATE_REDIS_URL", None, _redis_url, "a redis:// or rediss:// URL"),
        http_host=r.text("PAYGATE_HTTP_HOST", "127.0.0.1"),
        http_port=r.parsed("PAYGATE_HTTP_PORT", 8080, _port, "a TCP port (1-65535)"),
        public_url=r.parsed("PAYGATE_PUBLIC_URL", None, _url, "an http(s) URL"),
        trusted_proxies=r.parsed(
            "PAYGATE_TRUSTED_PROXIES", (), _cidrs, "comma-separated CIDRs such as 10.0.0.0/8"
        ),
        telegram=TelegramConfig(
            token=r.secret("PAYGATE_TELEGRAM_BOT_TOKEN"),
            api_url=r.parsed(
                "PAYGATE_TELEGRAM_API_URL", "https://api.telegram.org", _url, "an http(s) URL"
            ),
            bot_username=r.optional("PAYGATE_TELEGRAM_BOT_USERNAME"),
            webhook_secret=r.secret("PAYGATE_TELEGRAM_WEBHOOK_SECRET"),
            previous_webhook_secret=r.secret("PAYGATE_TELEGRAM_WEBHOOK_SECRET_PREVIOUS"),
            admin_chat_id=r.parsed("PAYGATE_ADMIN_CHAT_ID", None, int, "a Telegram chat id"),
            admin_calls_per_second=r.parsed(
                "PAYGATE_TELEGRAM_ADMIN_CALLS_PER_SECOND", 30, _positive_int, "a whole number > 0"
            ),
            processes=r.parsed(
                "PAYGATE_TELEGRAM_PROCESSES", 1, _processes, "a whole number of processes in 1..100"
            ),
            stars=r.parsed("PAYGATE_TELEGRAM_STARS", False, _switch, "on or off"),
        ),
        nowpayments=NowPaymentsConfig(
            api_url=r.parsed(
                "PAYGATE_NOWPAYMENTS_API_URL", "https://api.nowpayments.io", _url, "an http(s) URL"
            ),
            api_key=r.secret("PAYGATE_NOWPAYMENTS_API_KEY"),
            ipn_secret=r.secret("PAYGATE_NOWPAYMENTS_IPN_SECRET"),
            previous_ipn_secret=r.secret("PAYGATE_NOWPAYMENTS_IPN_SECRET_PREVIOUS"),
            account_email=r.optional("PAYGATE_NOWPAYMENTS_EMAIL"),
            account_password=r.secret("PAYGATE_NOWPAYMENTS_PASSWORD"),
        ),
        encryption_keys=r.required_secret(
            "PAYGATE_ENCRYPTION_KEYS",
            "comma-separated Fernet keys, newest first (paygate keys new-fernet makes one)",
        ),
        job_keys=r.secret("PAYGATE_JOB_KEYS"),
        mac_keys=r.required_secret(
            "PAYGATE_MAC_KEYS",
            "comma-separated base64 keys of 32+ bytes, newest first (paygate keys new-mac)",
        ),
        paying_status=r.parsed(
            "PAYGATE_PAYING_STATUS", IntentStatus.FINISHED, _paying, "finished or confirmed"
        ),
        underpayment_tolerance=r.parsed(
            "PAYGATE_UNDERPAYMENT_TOLERANCE", Decimal("0.005"), _tolerance, "a fraction in 0..0.5"
        ),
        grant_mode=r.parsed(
            "PAYGATE_GRANT_MODE", GrantMode.JOIN_REQUEST, GrantMode, "join_request or one_use_link"
        ),
        reminder_leads_hours=r.parsed(
            "PAYGATE_REMINDER_LEADS_HOURS", (72, 24), _hours, "comma-separated hours such as 72,24"
        ),
        grace=timedelta(hours=r.parsed("PAYGATE_GRACE_HOURS", 0, int, "a whole number of hours")),
        sweep_every=r.parsed(
            "PAYGATE_SWEEP_EVERY_SECONDS", timedelta(minutes=1), _positive_seconds, "seconds > 0"
        ),
        broadcast_every=r.parsed(
            "PAYGATE_BROADCAST_EVERY_SECONDS",
            timedelta(minutes=5),
            _positive_seconds,
            "seconds > 0",
        ),
        dispatch_every=r.parsed(
            "PAYGATE_DISPATCH_EVERY_SECONDS", timedelta(seconds=1), _positive_seconds, "seconds > 0"
        ),
        reconcile_every=r.parsed(
            "PAYGATE_RECONCILE_EVERY_SECONDS",
            timedelta(minutes=5),
            _positive_seconds,
            "seconds > 0",
        ),
        rights_check_every=r.parsed(
            "PAYGATE_RIGHTS_CHECK_EVERY_SECONDS",
            timedelta(minutes=1),
            _rights_check_every,
            "seconds in 1..86400",
        ),
        sellers=_read_sellers(r)[0],
        http_header_timeout=r.parsed(
            "PAYGATE_HTTP_HEADER_TIMEOUT_SECONDS", 10.0, _timeout_seconds, "seconds in (0, 3600]"
        ),
        http_body_timeout=r.parsed(
            "PAYGATE_HTTP_BODY_TIMEOUT_SECONDS", 15.0, _timeout_seconds, "seconds in (0, 3600]"
        ),
        http_keepalive_timeout=r.parsed(
            "PAYGATE_HTTP_KEEPALIVE_SECONDS", 15.0, _timeout_seconds, "seconds in (0, 3600]"
        ),
        http_max_connections=r.parsed(
            "PAYGATE_HTTP_MAX_CONNECTIONS", 1000, _connections, "a whole number in 1..1000000"
        ),
        http_max_connections_per_client=r.parsed(
            "PAYGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT",
            64,
            _connections,
            "a whole number in 1..1000000",
        ),
        http_reserved_connections=r.parsed(
            "PAYGATE_HTTP_RESERVED_CONNECTIONS",
            100,
            int,
            "a whole number below PAYGATE_HTTP_MAX_CONNECTIONS",
        ),
        clock_offset_file=r.parsed("PAYGATE_CLOCK_OFFSET_FILE", None, Path, "a file path"),
        # --- operator's surface
        alerts=_read_alerts(r),
        allowlists=_read_allowlists(
            r,
            r.parsed(
                "PAYGATE_ENV", Environment.DEVELOPMENT, Environment, "development or production"
            ),
        ),
        operators=r.parsed(
            "PAYGATE_OPERATOR_IDS", (), _user_ids, "comma-separated Telegram user ids such as 1001"
        ),
        sellers_by_approval=_read_sellers(r)[1],
        # --- end operator's surface
        secrets=r.parsed("PAYGATE_SECRETS", SecretsKind.ENV, SecretsKind, "env, files or gsm"),
        secrets_refresh=r.parsed(
            "PAYGATE_SECRETS_REFRESH_SECONDS",
            timedelta(minutes=5),
            _refresh_seconds,
            "0 (on SIGHUP only) or seconds in 10..86400",
        ),
        # --- observability (issue 18)
        ops_host=r.text("PAYGATE_OPS_HOST", "127.0.0.1"),
        ops_port=r.parsed("PAYGATE_OPS_PORT", None, _ops_port, "a TCP port (0-65535)"),
        # --- end observability
        dashboard=r.parsed("PAYGATE_DASHBOARD", True, _on_off, "on or off"),
        alert_history_days=r.parsed(
            "PAYGATE_ALERT_HISTORY_DAYS", 30, _alert_history_days, "whole days in 1..365"
        ),
        oidc=OidcConfig(
            client_id=r.optional("PAYGATE_OIDC_CLIENT_ID"),
            client_secret=r.secret("PAYGATE_OIDC_CLIENT_SECRET"),
            issuer=r.parsed(
                "PAYGATE_OIDC_ISSUER", "https://oauth.telegram.org", _url, "an http(s) URL"
            ),
        ),
        api=r.parsed("PAYGATE_API", False, _on_off, "on or off"),
        api_signing_keys=r.secret("PAYGATE_API_SIGNING_KEYS"),
    )
    _check_oidc(config)  # dashboard (issue 20)
    if not 0 <= config.http_reserved_connections < config.http_max_connections:
        raise ConfigError(
            "PAYGATE_HTTP_RESERVED_CONNECTIONS must be a whole number in 0.."
            f"{config.http_max_connections - 1} (below PAYGATE_HTTP_MAX_CONNECTIONS)"
        )
    _check_webhook_secret("PAYGATE_TELEGRAM_WEBHOOK_SECRET", config.telegram.webhook_secret)
    _check_webhook_secret(
        "PAYGATE_TELEGRAM_WEBHOOK_SECRET_PREVIOUS", config.telegram.previous_webhook_secret
    )
    _check_sellers(config)  # operator's surface
    config.mac_key_entries  # noqa: B018 - validates PAYGATE_MAC_KEYS now, not at first use
    config.job_signing_keys  # noqa: B018 - and PAYGATE_JOB_KEYS
    try:
        FernetCipher.from_env_value(config.encryption_keys.reveal())
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    _check_keys_are_distinct(config)  # issue 18: a key pasted into the wrong variable
    _check_api(config)  # issue 20
    np = config.nowpayments
    if (np.account_email is None) != (np.account_password is None):
        missing = (
            "PAYGATE_NOWPAYMENTS_PASSWORD"
            if np.account_password is None
            else ("PAYGATE_NOWPAYMENTS_EMAIL")
        )
        raise ConfigError(
            f"{missing} is not set: the NowPayments account login takes both "
            "PAYGATE_NOWPAYMENTS_EMAIL and PAYGATE_NOWPAYMENTS_PASSWORD, or neither"
        )
    if config.is_production and config.public_url and not config.public_url.startswith("https://"):
        raise ConfigError("PAYGATE_PUBLIC_URL must be https:// in production")
    if config.is_production and config.clock_offset_file is not None:
        raise ConfigError(
            "PAYGATE_CLOCK_OFFSET_FILE shifts the clock for tests; it is refused in production"
        )
    return config
