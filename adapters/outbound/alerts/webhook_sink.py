"""Alerts as outgoing webhooks signed in the Standard Webhooks format (v1, HMAC-SHA256).

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
Each request carries ``webhook-id`` (unique per alert), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature`` (``v1,`` + base64 of HMAC-SHA256 over
``{id}.{timestamp}.{body}`` with the shared secret), so a receiver can check it with
any Standard Webhooks library, reject replays by the timestamp and de-duplicate by id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC

import aiohttp
import attrs

from adapters.outbound.alerts.channel import AlertDeliveryFailed, BestEffortChannel
from core.ports.alerts import Alert
from core.ports.clock import Clock, IdGenerator
from core.ports.security import Secret

__all__ = [
    "EVENT_TYPE",
    "WebhookAlertSink",
    "WebhookSecret",
    "sign_standard_webhook",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
"""The spec: a random secret of at least 24 bytes (192 bits) and at most 512 bits."""

EVENT_TYPE = "alert.raised"
"""One event type, one payload schema: the severity is a field of ``data``."""

DEFAULT_TIMEOUT = 15.0
"""The spec recommends receivers be given 15 to 30 s."""


@attrs.frozen(repr=False)
class WebhookSecret:
    """The shared signing key. Written ``whsec_`` + base64 as the spec serialises it
    (the prefix is optional on input, as in the reference libraries)."""

    key: bytes

    @classmethod
    def parse(cls, serialized: Secret | str) -> WebhookSecret:
        text = serialized.reveal() if isinstance(serialized, Secret) else serialized
        text = text.strip().removeprefix(SECRET_PREFIX).rstrip("=")
        try:
            # Padding is optional in the wild (the reference libraries accept both).
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the webhook secret is not base64 (whsec_...)") from None
        if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
            raise ValueError(
                f"the webhook secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes,"
                f" got {len(key)}"
            )
        return cls(key)

    def __repr__(self) -> str:
        return "WebhookSecret('***')"


def sign_standard_webhook(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64(HMAC-SHA256(key, id.ts.body))."""
    if "." in msg_id:
        # The spec: ids must not contain the separator, or two messages could sign alike.
        raise ValueError("a webhook id must not contain '.'")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookAlertSink(BestEffortChannel):
    """Implements AlertSink (and AlertChannel). POSTs each alert as JSON::

        {"type": "alert.raised", "timestamp": "2025-01-01T00:00:00Z",
         "data": {"severity": "critical", "title": ..., "key": ..., "details": {...}}}

    over the injected ClientSession (its lifecycle belongs to the composition root).
    Only a 2xx answer is a delivery; redirects are not followed (the spec: a 3xx is a
    failure, fix the URL instead). The URL is never logged: it may hold a token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: WebhookSecret,
        clock: Clock,
        ids: IdGenerator,
        *,
        name: str = "webhook",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook URL must be http(s)")
        if timeout <= 0:
            raise ValueError("the webhook timeout must be positive")
        self._session = session
        self._url = url
        self._secret = secret
        self._clock = clock
        self._ids = ids
        self._name = name
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, alert: Alert) -> None:
        now = self._clock.now().astimezone(UTC)
        msg_id = "msg_" + self._ids.new_id()
        timestamp = int(now.timestamp())
        body = json.dumps(
            {
                "type": EVENT_TYPE,
                "timestamp": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "data": {
                    "severity": alert.severity.value,
                    "title": alert.title,
                    "key": alert.key,
                    "details": dict(alert.details),
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_standard_webhook(self._secret, msg_id, timestamp, body),
        }
        try:
            async with self._session.post(
                self._url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                status = response.status
        except TimeoutError as exc:
            raise AlertDeliveryFailed(f"{self._name}: the receiver did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise AlertDeliveryFailed(
                f"{self._name}: the request failed ({type(exc).__name__})"
            ) from exc
        if not 200 <= status < 300:
            raise AlertDeliveryFailed(f"{self._name}: the receiver answered HTTP {status}")
