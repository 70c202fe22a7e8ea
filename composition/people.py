"""``paygate user export`` and ``paygate user erase``: a person's data, on request.

Exit status 0 when done, 1 when refused (an active subscription, owned channels;
``--force`` overrides), 2 on a configuration or database error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import attrs

from adapters.catalog.refusals import refusal
from composition.config import ConfigError, load_config
from composition.containers import Infrastructure
from composition.processes.process import resolve
from composition.startup_errors import explain
from core.domain.ids import UserId
from core.ports.errors import Unavailable
from core.services.person_data import (
    ErasePerson,
    ExportPerson,
    PersonData,
    PersonDataRefused,
)

KEPT = (
    "Earlier audit events are hash-linked: each one's hash covers the one before, so "
    "they keep the ids they were written with; erasure adds user.erased under the "
    "pseudonym. Amounts, dates and which channel was paid for stay under the pseudonym, "
    "for the books."
)

EXPORT_HELP = (
    "Write everything PayGate holds about one Telegram user as JSON: subscriptions, "
    "payment intents and the provider's notifications for them (order ids), access "
    "grants with invite links, donations, owned channels (with the payout wallet), the "
    "request to sell (the name given), the bot conversation in progress, the chat "
    "language, the Telegram username last seen, the HTTP API tokens (names, scopes, dates; "
    "never a token) and the audit events by them or about what is theirs. Refused (exit 1) "
    "while they hold an active subscription, unless --force. Exit 2 on a configuration "
    "or database error."
)

ERASE_HELP = (
    "Remove a Telegram user's personal data. Where the books need a row (payment "
    "intents and notifications, subscriptions, access grants, donations) the user id "
    "is replaced by a pseudonym: a keyed hash under the newest PAYGATE_MAC_KEYS key, the "
    "same for the same person, not reversible without the key, and negative so never a "
    "Telegram id. Invite links, the request to sell (the name), the bot conversation, "
    "the chat language, the Telegram username last seen and the HTTP API tokens are "
    "deleted. What stays and why: " + KEPT + " Refused (exit "
    "1) while they hold an active subscription (erasing cuts them off from what they "
    "paid for: their access is no longer theirs) or own channels, unless --force; "
    "forced, an owner's channels stay for their subscribers, owned by the pseudonym, "
    "with the payout wallet removed and sales paused. Exit 2 on a configuration or "
    "database error."
)


def _plain(_: type, __: attrs.Attribute[Any] | None, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def person_json(data: PersonData) -> dict[str, Any]:
    """The export as JSON-ready values (attrs classes as objects, times in ISO 8601)."""
    out: dict[str, Any] = attrs.asdict(data, value_serializer=_plain)
    out["note"] = KEPT
    return out


Step = Callable[[Infrastructure], Awaitable[int]]


async def _with_store(step: Step) -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"paygate: configuration error: {exc}\n")
        return 2
    infra = Infrastructure(config=config)
    try:
        return await step(infra)
    except PersonDataRefused as exc:
        said = refusal(exc)  # the operator's console speaks the catalog's English
        sys.stderr.write(f"paygate: refused: {said} Run again with --force to go ahead.\n")
        return 1
    except Unavailable as exc:
        line = explain(exc, config.database_url) or f"the store does not answer ({exc})"
        sys.stderr.write(f"paygate: {line}\n")
        return 2
    finally:
        await infra.shutdown_resources()  # type: ignore[misc]


def _export(args: argparse.Namespace) -> int:
    async def step(infra: Infrastructure) -> int:
        export = ExportPerson(
            await resolve(infra.store_uow),
            await resolve(infra.conversations),
            await resolve(infra.languages),
            await resolve(infra.clock),
            await resolve(infra.person_names),
            await resolve(infra.api_token_store),
        )
        data = await export(UserId(args.telegram_id), force=args.force)
        text = json.dumps(person_json(data), ensure_ascii=False, indent=2) + "\n"
        if args.out is None:
            sys.stdout.write(text)
        else:
            await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
        return 0

    return asyncio.run(_with_store(step))


def _erase(args: argparse.Namespace) -> int:
    async def step(infra: Infrastructure) -> int:
        erase = ErasePerson(
            await resolve(infra.store_uow),
            await resolve(infra.conversations),
            await resolve(infra.languages),
            await resolve(infra.clock),
            await resolve(infra.keyring),
            await resolve(infra.person_names),
            await resolve(infra.api_token_store),
        )
        done = await erase(UserId(args.telegram_id), force=args.force)
        sys.stdout.write(
            f"Erased: {done.rows} rows changed, {done.channels} channels left without "
            f"owner; the person is now {done.pseudonym} (audited as user.erased).\n"
        )
        return 0

    return asyncio.run(_with_store(step))


def _telegram_id(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("a Telegram user id is a positive number")
    return value


def configure_user(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION")
    actions.required = True
    export = actions.add_parser(
        "export", help="write everything held about a person as JSON", description=EXPORT_HELP
    )
    export.add_argument("telegram_id", type=_telegram_id, help="the person's Telegram user id")
    export.add_argument("--out", default=None, help="write to this file instead of stdout")
    export.add_argument("--force", action="store_true", help="even while a subscription is active")
    export.set_defaults(run=_export)
    erase = actions.add_parser(
        "erase", help="remove a person's personal data, keeping the books", description=ERASE_HELP
    )
    erase.add_argument("telegram_id", type=_telegram_id, help="the person's Telegram user id")
    erase.add_argument(
        "--force",
        action="store_true",
        help="even while a subscription is active or the person owns channels",
    )
    erase.set_defaults(run=_erase)
