"""The ``paygate`` commands that run or inspect a process: run, web, bot, worker,
check-config, keys, demo. (``db`` lives in :mod:`composition.cli`.) They parse
arguments only: a role is run by :func:`composition.processes.run.run_role`."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import secrets
import sys
from collections.abc import Callable

from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.redis.client import RedisProbe, connect_redis
from adapters.outbound.sqla import (
    SchemaMismatch,
    check_schema_revision,
    create_engine,
    safe_url,
)
from composition.config import (
    ROLES,
    Config,
    ConfigError,
    check_role,
    load_config,
    masked_url,
    settings_environment,
)
from composition.key_rotation import configure_rotate
from composition.logging import configure_logging
from composition.people import configure_user
from composition.processes.run import run_role
from composition.secret_source import SecretsKind
from composition.startup_errors import explain
from core.ports.errors import Unavailable

Register = Callable[..., object]


def _serve(role: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            json_logs = args.json_logs or _json_log_format()
        except ConfigError as exc:
            sys.stderr.write(f"paygate: configuration error: {exc}\n")
            return 2
        return run_role(role, log_level=args.log_level, json_logs=json_logs)

    return run


def _json_log_format() -> bool:
    """``PAYGATE_LOG_FORMAT`` (issue 18): ``json`` or ``text`` (the default); the
    ``--json-logs`` flag wins over it."""
    value = settings_environment().get("PAYGATE_LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("json", "text"):
        raise ConfigError(f"PAYGATE_LOG_FORMAT must be json or text, got {value!r}")
    return value == "json"


def _add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="lowest level logged (default: INFO)",
    )
    parser.add_argument(
        "--json-logs",
        action="store_true",
        help=(
            "one JSON object per log line (for log collectors), as PAYGATE_LOG_FORMAT=json "
            "does; secrets are always redacted"
        ),
    )


def _check_config(args: argparse.Namespace) -> int:
    # --- never silently wrong (issue 18): --for ROLE checks what that process needs ---
    role: str | None = args.role
    try:
        config = load_config()
        warnings = check_role(config, role) if role is not None else []
    except ConfigError as exc:
        sys.stderr.write(f"paygate: configuration error: {exc}\n")
        return 2
    width = max(len(name) for name in config.masked())
    for name, value in config.masked().items():
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
    for warning in warnings:
        sys.stdout.write(f"warning: {warning}\n")
    if role is None:
        return 0
    problem = asyncio.run(_unreachable(config))
    if problem is not None:
        sys.stderr.write(f"paygate: {problem}\n")
        return 2
    sys.stdout.write(f"paygate {role}: the configuration, database and Redis are ready\n")
    return 0


async def _unreachable(config: Config) -> str | None:
    """The first store a process would fail to use, as one line naming its variable;
    None when the database is reachable at this release's schema and Redis answers."""
    shown = safe_url(config.database_url)
    engine = create_engine(config.database_url, pool_size=1, max_overflow=0)
    try:
        await check_schema_revision(engine)
    except SchemaMismatch as exc:
        return f"PAYGATE_DATABASE_URL ({shown}): {exc}"
    except Unavailable as exc:
        line = explain(exc, config.database_url)
        return line or f"PAYGATE_DATABASE_URL ({shown}): the database does not answer ({exc})"
    except Exception as exc:
        line = explain(exc, config.database_url)
        if line is None:
            raise
        return line
    finally:
        await engine.dispose()
    if config.redis_url is None:
        return None
    client = connect_redis(config.redis_url)
    try:
        await RedisProbe(client)()
    except Unavailable as exc:
        return (
            f"PAYGATE_REDIS_URL ({masked_url(config.redis_url)}): Redis does not answer "
            f"({exc}); start it or fix the URL (processes run on without it, degraded)"
        )
    finally:
        await client.aclose()
    return None


def _configure_check_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--for",
        dest="role",
        choices=ROLES,
        default=None,
        help=(
            "also check what this process needs: its credentials, PAYGATE_PUBLIC_URL and "
            "the webhook secret, the database at this release's schema, Redis answering"
        ),
    )
    parser.set_defaults(run=_check_config)


# --- end never silently wrong ---


def _new_fernet(_: argparse.Namespace) -> int:
    sys.stdout.write(generate_key() + "\n")
    return 0


def _new_mac(_: argparse.Namespace) -> int:
    sys.stdout.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=") + "\n")
    return 0


def _new_webhook_secret(_: argparse.Namespace) -> int:
    # 32 random bytes as URL-safe base64: 43 characters Telegram accepts, 256 bits.
    sys.stdout.write(secrets.token_urlsafe(32) + "\n")
    return 0


def _configure_keys(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION")
    actions.required = True
    fernet = actions.add_parser(
        "new-fernet",
        help="print a new encryption key for PAYGATE_ENCRYPTION_KEYS",
        description=(
            "Print a new Fernet key. To rotate, put it first in PAYGATE_ENCRYPTION_KEYS "
            "and keep the old keys after it until stored values are re-encrypted."
        ),
    )
    fernet.set_defaults(run=_new_fernet)
    mac = actions.add_parser(
        "new-mac",
        help="print a new MAC key for PAYGATE_MAC_KEYS (or PAYGATE_API_SIGNING_KEYS)",
        description=(
            "Print a new 32-byte MAC key (base64) for signing offer links and order ids. "
            "To rotate, put it first in PAYGATE_MAC_KEYS and keep the old one after it, "
            "optionally accepted until a date only: NEW,OLD@2025-07-01."
        ),
    )
    mac.set_defaults(run=_new_mac)
    webhook = actions.add_parser(
        "new-webhook-secret",
        help="print a new secret for PAYGATE_TELEGRAM_WEBHOOK_SECRET",
        description=(
            "Print a new Telegram webhook secret (43 characters of A-Z a-z 0-9 _ -, 256 "
            "random bits). To rotate, move the current one to "
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET_PREVIOUS and put this one in "
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET; the web process sets it on the webhook at start."
        ),
    )
    webhook.set_defaults(run=_new_webhook_secret)
    # ---- keys rotate (issue 18, key rotation) ----
    configure_rotate(
        actions.add_parser(
            "rotate",
            help="re-encrypt every stored encrypted value under the newest encryption key",
            description=(
                "Re-encrypt every encrypted value (payout wallets) under the first key of "
                "PAYGATE_ENCRYPTION_KEYS, in pages. Safe to interrupt and run again, and to "
                "run beside the service. When it reports nothing unreadable, the old keys "
                "may be removed from PAYGATE_ENCRYPTION_KEYS."
            ),
        )
    )
    # ---- end keys rotate ----


def _run_demo(args: argparse.Namespace) -> int:
    from composition.demo.run import run_demo

    configure_logging(level=args.log_level, json_lines=args.json_logs)
    return asyncio.run(
        run_demo(keep_running=args.keep_running, secrets_from=SecretsKind(args.secrets))
    )


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the stack up after the journey and print where each part listens",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="lowest level of the services' logs shown beside the transcript (default: WARNING)",
    )
    parser.add_argument("--json-logs", action="store_true", help="logs as JSON lines")
    parser.add_argument(
        "--secrets",
        default=SecretsKind.ENV.value,
        choices=(SecretsKind.ENV.value, SecretsKind.GSM.value),
        help="where PayGate reads its secrets: env (default) or gsm, a local Secret Manager "
        "emulator started beside the others (PAYGATE_SECRETS=gsm with a service-account key)",
    )
    parser.set_defaults(run=_run_demo)


def register_all(register: Register, command: Callable[..., object]) -> None:
    """Add these commands to the CLI registry (``command`` builds a Command)."""

    def serving(name: str, help_text: str, description: str) -> None:
        def configure(parser: argparse.ArgumentParser) -> None:
            _add_log_options(parser)
            parser.set_defaults(run=_serve(name))

        register(command(name=name, help=help_text, configure=configure, description=description))

    serving(
        "run",
        "run everything in one process: HTTP, bot and workers (the default deployment)",
        "Run the HTTP server (webhooks, health, metrics), the bot and the background "
        "workers in one process. Configuration comes from PAYGATE_* variables and .env; "
        "see .env.example. SIGTERM stops it gracefully.",
    )
    serving(
        "web",
        "run the HTTP server only: webhooks, health, metrics",
        "Serve POST /webhooks/nowpayments, POST /webhooks/telegram, /healthz, /readyz and "
        "/metrics on PAYGATE_HTTP_HOST:PAYGATE_HTTP_PORT. Run as many as you like. "
        "Behind a reverse proxy, set PAYGATE_TRUSTED_PROXIES to its network, or every "
        "client shares the proxy's rate-limit bucket. "
        "Connections are capped and timed out (PAYGATE_HTTP_MAX_CONNECTIONS, "
        "PAYGATE_HTTP_*_TIMEOUT_SECONDS, PAYGATE_HTTP_KEEPALIVE_SECONDS; see .env.example). "
        "A payment the provider reports refunded takes back the time it bought (the "
        "member is removed when no paid time is left; subscriber and owner are told); a "
        "partly paid one tells the payer what is missing and where to send it.",
    )
    serving(
        "bot",
        "run the bot by long polling (for hosts without a public URL)",
        "Receive Telegram updates with getUpdates and answer them. Only one bot process "
        "may poll at a time (Telegram's rule); with PAYGATE_PUBLIC_URL use webhooks instead. "
        "Owners use /register, /channels, /tiers, /donations, /repost and /resume <n> (checks "
        "the bot's rights in both chats and resumes sales, or says what the bot lacks where); "
        "subscribers use the offer's buttons, /status and /help. Operators "
        "(PAYGATE_OPERATOR_IDS) use /owners: every owner, their channels and each one's status. "
        "With PAYGATE_OPS_PORT set, serves /healthz, /readyz and /metrics on "
        "PAYGATE_OPS_HOST (127.0.0.1):PAYGATE_OPS_PORT.",
    )
    serving(
        "worker",
        "run the background workers: outbox, expiry, broadcasts, reconciliation, rights",
        "Dispatch queued Telegram effects, send reminders and remove expired members, keep "
        "offers posted, reconcile payments and re-check the bot's rights in registered "
        "chats (resuming or pausing sales). Any number of workers may run at once; with "
        "PAYGATE_REDIS_URL they keep to Telegram's limits together (set "
        "PAYGATE_TELEGRAM_PROCESSES to how many processes talk to Telegram). Queued "
        "removals, reminders and join answers are checked against the subscription "
        "when they go out. With PAYGATE_OPS_PORT set, serves /healthz, /readyz and "
        "/metrics on PAYGATE_OPS_HOST (127.0.0.1):PAYGATE_OPS_PORT.",
    )
    register(
        command(
            name="check-config",
            help="print the effective configuration with secrets masked",
            configure=_configure_check_config,
            description="Load and validate the configuration as a process would, and "
            "print every setting (secrets only as '*** (set)', passwords inside URLs as "
            "***). With --for ROLE, also check what that process needs and that its "
            "database and Redis answer. Exit status 2, with one line naming the variable "
            "and the fix, if anything is wrong.",
        )
    )
    register(
        command(
            name="demo",
            help="run the whole journey against local emulators (what `make demo` runs)",
            configure=_configure_demo,
            description=(
                "Start local emulators of the Telegram Bot API and NowPayments, run the "
                "monolith against them on a fresh SQLite file, and play a complete journey: "
                "an owner registers a channel pair, a subscriber pays and is let in, a "
                "stranger is turned away, reminders, renewal, expiry and a donation. Exits 0 "
                "when every step happened."
            ),
        )
    )
    register(
        command(
            name="keys",
            help="make new keys for encryption and signing, and webhook secrets",
            configure=_configure_keys,
        )
    )
    # ---- a person's data (issue 18) ----
    register(
        command(
            name="user",
            help="a person's data: export it as JSON, or erase it keeping the books",
            configure=configure_user,
            description="Export or erase what PayGate holds about one Telegram user. "
            "Both refuse (exit 1) while the person holds an active subscription, and "
            "erase while they own channels, unless --force. See 'paygate user erase "
            "--help' for what erasure keeps and why.",
        )
    )
    # ---- end a person's data ----


logging.getLogger("paygate").addHandler(logging.NullHandler())
