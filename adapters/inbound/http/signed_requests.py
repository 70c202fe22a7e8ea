"""Signed machine requests: external schedulers (and later partner systems) prove who
they are and that the request is fresh and unreplayed.

A request carries four headers::

    X-PayGate-Key-Id     which shared key signed it (keys rotate: old and new ids
                         are both configured during the overlap)
    X-PayGate-Timestamp  Unix time in whole seconds
    X-PayGate-Nonce      16-128 characters of A-Z a-z 0-9 _ -, never reused
    X-PayGate-Signature  hex HMAC-SHA256 of
                         f"{timestamp}\\n{nonce}\\n{method}\\n{path}\\n" + body

where ``path`` is the request target as sent (path and query string). It is refused
(401, with no hint of which check failed) when a header is missing or malformed, the
key id is unknown, the timestamp is more than ``window`` seconds away from our clock
in either direction, or the signature does not verify; and when the nonce was seen
before. The nonce is remembered only after the signature verified, so nobody can
burn someone else's nonces, and for twice the window, which covers every timestamp
that could still be accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from adapters.inbound.http.body import read_body
from adapters.inbound.http.client_ip import client_ip_of
from adapters.inbound.http.errors import json_error
from adapters.inbound.http.metrics import HttpMetrics
from adapters.inbound.http.routes import RouteTable
from core.ports.clock import Clock
from core.ports.security import NonceStore, Secret

__all__ = [
    "KEY_ID_HEADER",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "SIGNED_KEY_ID",
    "TIMESTAMP_HEADER",
    "RequestRefused",
    "SignedRequestVerifier",
    "SigningKeys",
    "canonical_message",
    "sign_request",
    "signed_request_middleware",
]

logger = logging.getLogger(__name__)

KEY_ID_HEADER = "X-PayGate-Key-Id"
TIMESTAMP_HEADER = "X-PayGate-Timestamp"
NONCE_HEADER = "X-PayGate-Nonce"
SIGNATURE_HEADER = "X-PayGate-Signature"

SIGNED_KEY_ID = web.RequestKey("paygate.signed_key_id", str)
"""The key id a verified signed request was signed with."""

NONCE_SCOPE = "signed-request"
DEFAULT_WINDOW_SECONDS = 300
MIN_KEY_BYTES = 32

_KEY_ID = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")
_TIMESTAMP = re.compile(r"\A[0-9]{1,12}\Z")
_NONCE = re.compile(r"\A[A-Za-z0-9_-]{16,128}\Z")
_SIGNATURE = re.compile(r"\A[0-9a-fA-F]{64}\Z")


def _check_keys(
    _: object, __: attrs.Attribute[Mapping[str, Secret]], keys: Mapping[str, Secret]
) -> None:
    for key_id, secret in keys.items():
        if _KEY_ID.match(key_id) is None:
            raise ValueError(f"signing key id {key_id!r} must be 1-64 of A-Z a-z 0-9 _ . -")
        if len(secret.reveal().encode("utf-8")) < MIN_KEY_BYTES:
            raise ValueError(f"signing key {key_id!r} must be at least {MIN_KEY_BYTES} bytes")


@attrs.frozen(repr=False)
class SigningKeys:
    """Shared keys by id; never shows a key in its repr."""

    keys: Mapping[str, Secret] = attrs.field(factory=dict, validator=_check_keys)

    def __repr__(self) -> str:
        return f"SigningKeys(ids={sorted(self.keys)})"

    def get(self, key_id: str) -> bytes | None:
        secret = self.keys.get(key_id)
        return None if secret is None else secret.reveal().encode("utf-8")


def canonical_message(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + body


def sign_request(
    key_id: str,
    key: Secret,
    method: str,
    path: str,
    body: bytes,
    *,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a client sends (the signing side of the scheme, for callers and tests)."""
    nonce = nonce if nonce is not None else secrets.token_urlsafe(24)
    message = canonical_message(str(timestamp), nonce, method, path, body)
    signature = hmac.new(key.reveal().encode("utf-8"), message, hashlib.sha256).hexdigest()
    return {
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature,
    }


class RequestRefused(Exception):
    """A signed request failed a check; ``reason`` is for logs and metrics only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignedRequestVerifier:
    def __init__(
        self,
        keys: SigningKeys,
        nonces: NonceStore,
        clock: Clock,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        if window_seconds < 1:
            raise ValueError("the signed-request window must be at least one second")
        self._keys = keys
        self._nonces = nonces
        self._clock = clock
        self._window = window_seconds

    async def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> str:
        """The key id that signed the request. Raises RequestRefused; the nonce store's
        Unavailable passes through (the request can be retried)."""
        key_id = headers.get(KEY_ID_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not (key_id and timestamp and nonce and signature):
            raise RequestRefused("missing")
        if (
            _TIMESTAMP.match(timestamp) is None
            or _NONCE.match(nonce) is None
            or _SIGNATURE.match(signature) is None
        ):
            raise RequestRefused("malformed")
        key = self._keys.get(key_id)
        if key is None:
            raise RequestRefused("unknown_key")
        if abs(self._clock.now().timestamp() - int(timestamp)) > self._window:
            raise RequestRefused("stale")
        message = canonical_message(timestamp, nonce, method, path, body)
        expected = hmac.new(key, message, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, bytes.fromhex(signature)):
            raise RequestRefused("bad_signature")
        if not await self._nonces.remember(NONCE_SCOPE, nonce, 2 * self._window + 1):
            raise RequestRefused("replayed")
        return key_id


def signed_request_middleware(
    table: RouteTable, verifier: SignedRequestVerifier, metrics: HttpMetrics
) -> Middleware:
    """Routes whose policy says ``signed`` reach their handler only with a valid,
    fresh, first-seen signed request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        policy = table.policy(request)
        if not policy.signed:
            return await handler(request)
        body = await read_body(request, policy.body_limit)
        try:
            key_id = await verifier.verify(request.method, request.raw_path, request.headers, body)
        except RequestRefused as exc:
            metrics.refused.labels(f"signed_{exc.reason}").inc()
            logger.warning(
                "refused signed request %s %s from %s: %s",
                request.method,
                request.path,
                client_ip_of(request),
                exc.reason,
            )
            return json_error(401, "signature refused", {"WWW-Authenticate": "PayGate-HMAC"})
        request[SIGNED_KEY_ID] = key_id
        return await handler(request)

    return middleware
