"""Telegram's seamless login (a ``login_url`` button): the fields Telegram appends to
our URL, checked as Telegram documents. The data-check string is every received
field but ``hash``, as ``key=value`` sorted by key and joined by newlines; ``hash``
is its HMAC-SHA-256 in hex, keyed by the SHA-256 of the bot token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

import attrs

from adapters.catalog.language import _
from adapters.catalog.refusals import Worded
from core.domain.errors import NotAuthorized
from core.domain.ids import UserId

MAX_AGE_SECONDS = 300
"""A login link is good for five minutes after Telegram signed it."""

FIELDS = frozenset({"id", "first_name", "last_name", "username", "photo_url", "auth_date"})


class LoginRefused(Worded, NotAuthorized):
    """The login link is forged, altered, too old or already used."""


@attrs.frozen
class TelegramIdentity:
    user_id: UserId
    first_name: str
    username: str | None
    auth_date: int
    hash: str


def login_hash(fields: Mapping[str, str], bot_token: str) -> str:
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hashlib.sha256(bot_token.encode()).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def verify_login(
    query: Mapping[str, str], bot_tokens: tuple[str, ...], now: datetime
) -> TelegramIdentity:
    """The identity Telegram vouches for. ``bot_tokens``: the current token and, during
    a rotation, the previous one. Raises LoginRefused."""
    fields = {k: v for k, v in query.items() if k in FIELDS or k == "hash"}
    given = fields.get("hash", "")
    if not given or "id" not in fields or "auth_date" not in fields:
        raise LoginRefused(_("This login link is incomplete."))
    if not any(hmac.compare_digest(login_hash(fields, t), given) for t in bot_tokens):
        raise LoginRefused(_("This login link was not signed by Telegram."))
    try:
        user_id, auth_date = int(fields["id"]), int(fields["auth_date"])
    except ValueError as exc:
        raise LoginRefused(_("This login link is malformed.")) from exc
    age = now.timestamp() - auth_date
    if age > MAX_AGE_SECONDS or age < -60:
        raise LoginRefused(_("This login link has expired; open /dashboard in the bot again."))
    return TelegramIdentity(
        UserId(user_id), fields.get("first_name", ""), fields.get("username"), auth_date, given
    )
