"""``POST /webhooks/telegram``: updates pushed by the Telegram Bot API.

Telegram proves it is Telegram with the secret token given to ``setWebhook``, sent
back in ``X-Telegram-Bot-Api-Secret-Token``. It is compared in constant time with
the current secret and, during a rotation, the previous one; a missing or wrong
token is 401 and logged without its value.

Telegram resends an update it got no timely 2xx for, so updates are deduplicated by
``update_id``: one already handled is answered 200 and not handed on again. The mark
is set only once the handler returned: an update whose handling failed (an error, or
the process died half-way) has no mark, so Telegram's resend is handled. Two
deliveries of one update that arrive while it is being handled are both handled: the
bot's handlers are idempotent, and losing an update would be worse.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from adapters.inbound.http.body import read_body
from adapters.inbound.http.client_ip import client_ip_of
from adapters.inbound.http.errors import json_error
from adapters.inbound.http.metrics import HttpMetrics
from core.ports.errors import Unavailable
from core.ports.security import NonceStore, Secret

__all__ = [
    "SECRET_HEADER",
    "TelegramWebhook",
    "TelegramWebhookEndpoint",
    "UpdateHandler",
    "WebhookSecretRing",
]

logger = logging.getLogger(__name__)

UpdateHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
"""Takes one update (the parsed JSON object) for the bot to process."""

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
DEDUPE_SCOPE = "telegram-update"
DEFAULT_DEDUPE_SECONDS = 26 * 3600
"""Telegram keeps an unconfirmed update for up to a day; a little more covers its
last resend."""

_SECRET_SHAPE = re.compile(r"\A[A-Za-z0-9_-]{1,256}\Z")


def _secret_shape(_: object, attribute: attrs.Attribute[Secret], value: Secret) -> None:
    if _SECRET_SHAPE.match(value.reveal()) is None:
        raise ValueError(f"{attribute.name}: Telegram secret tokens are 1-256 of A-Z a-z 0-9 _ -")


class WebhookSecretRing:
    """The secret tokens an update may carry: the current one and, during a rotation,
    the previous one. Shared with whoever re-reads the deployment's secrets, which
    calls :meth:`rekey`; a request reads one tuple, so the check stays a compare."""

    def __init__(self, secret: Secret, previous: Secret | None = None) -> None:
        self.tokens: tuple[bytes, ...] = ()
        self.rekey(secret, previous)

    def rekey(self, secret: Secret, previous: Secret | None = None) -> None:
        for value in (secret, previous):
            if value is not None and _SECRET_SHAPE.match(value.reveal()) is None:
                raise ValueError("Telegram secret tokens are 1-256 of A-Z a-z 0-9 _ -")
        self.tokens = tuple(s.reveal().encode("ascii") for s in (secret, previous) if s)


@attrs.frozen
class TelegramWebhook:
    secret: Secret = attrs.field(validator=_secret_shape)
    handler: UpdateHandler
    previous_secret: Secret | None = attrs.field(
        default=None, validator=attrs.validators.optional(_secret_shape)
    )
    """Still accepted while the webhook secret is being rotated."""
    dedupe_seconds: int = DEFAULT_DEDUPE_SECONDS
    ring: WebhookSecretRing | None = None
    """The live secrets, re-keyed when the deployment's secrets are re-read; None:
    ``secret`` and ``previous_secret`` for the life of the endpoint."""


class TelegramWebhookEndpoint:
    def __init__(
        self, webhook: TelegramWebhook, nonces: NonceStore, metrics: HttpMetrics, body_limit: int
    ) -> None:
        self._webhook = webhook
        self._ring = webhook.ring or WebhookSecretRing(webhook.secret, webhook.previous_secret)
        self._nonces = nonces
        self._metrics = metrics
        self._limit = body_limit

    def _authentic(self, request: web.Request) -> bool:
        given = request.headers.getall(SECRET_HEADER, [])
        if len(given) != 1:
            return False
        token = given[0].encode("utf-8", "surrogateescape")
        matched = False
        for secret in self._ring.tokens:
            # No early exit: the time taken does not tell which secret matched.
            matched |= hmac.compare_digest(secret, token)
        return matched

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            self._metrics.telegram_updates.labels("unauthorized").inc()
            present = SECRET_HEADER in request.headers
            logger.warning(
                "refused a Telegram update from %s: secret token %s",
                client_ip_of(request),
                "wrong" if present else "missing",
            )
            return json_error(401, "unauthorized")
        body = await read_body(request, self._limit)
        update = _parse(body)
        if update is None:
            self._metrics.telegram_updates.labels("malformed").inc()
            return json_error(400, "an update is a JSON object with an integer update_id")
        update_id = str(update["update_id"])
        if await self._nonces.seen(DEDUPE_SCOPE, update_id):
            self._metrics.telegram_updates.labels("duplicate").inc()
            return web.json_response({"ok": True, "duplicate": True})
        await self._webhook.handler(update)
        try:
            await self._nonces.remember(DEDUPE_SCOPE, update_id, self._webhook.dedupe_seconds)
        except Unavailable as exc:
            # Handled: a 503 would only make Telegram resend it. Without the mark a
            # resend is handled again, which the handlers' idempotency allows.
            logger.warning("update %s handled but not marked seen: %s", update_id, exc)
        self._metrics.telegram_updates.labels("accepted").inc()
        return web.json_response({"ok": True})


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        update = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        return None
    return update
