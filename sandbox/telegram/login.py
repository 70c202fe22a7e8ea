"""Telegram's seamless login as the emulator plays it: a ``login_url`` button, opened
by a user, sends their browser to the button's URL with their identity appended and
signed with the bot's token, as Telegram documents (the data-check string is every
field but ``hash`` as ``key=value``, sorted by key, joined by newlines; ``hash`` is
its HMAC-SHA-256 in hex, keyed by the SHA-256 of the token).

Written here, not imported: the emulator plays Telegram, and must not share the
code that checks it."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.telegram.model import User

__all__ = ["login_fields", "signed_login_url"]


def login_fields(user: User, bot_token: str, auth_date: int) -> dict[str, str]:
    """What Telegram appends for ``user``: id, first_name, username (when they have
    one), auth_date and the hash over them."""
    fields = {"id": str(user.id), "first_name": user.first_name, "auth_date": str(auth_date)}
    if user.username:
        fields["username"] = user.username
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hashlib.sha256(bot_token.encode()).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return fields


def signed_login_url(url: str, user: User, bot_token: str, auth_date: int) -> str:
    """``url`` with ``user``'s signed identity added to its query (kept parameters first)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *login_fields(user, bot_token, auth_date).items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
