"""The API's short-lived access tokens: JWTs (HS256) signed with the first of
``PAYGATE_API_SIGNING_KEYS``, accepted under any of them.

An access token is what an API token is exchanged for (``POST /api/v1/token``); it
lives :data:`LIFETIME` and names the API token it came from (``tid``), which the
router checks is still active on every call, so revoking an API token ends its access
tokens at once. The header's ``kid`` is a digest of the signing key (it names the
key without revealing it), so a rotated-out key's tokens are refused by name and a
rotation (``NEW,OLD``, then ``NEW``) never refuses a token before it expires.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import attrs
import jwt

from core.ports.api_tokens import ApiScope, ApiToken
from core.ports.clock import Clock

__all__ = [
    "AUDIENCE",
    "LIFETIME",
    "AccessClaims",
    "AccessTokens",
    "ApiSigningKeys",
    "InvalidAccess",
    "key_id",
]

LIFETIME = timedelta(minutes=15)
ALGORITHM = "HS256"
AUDIENCE = "paygate-api"
_REQUIRED = ["sub", "scope", "exp", "iat", "jti", "tid", "aud"]


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"paygate api key id\x00" + key).hexdigest()[:16]


class ApiSigningKeys:
    """The keys, newest first; re-keyed in place when the secrets are re-read."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._keys: tuple[tuple[str, bytes], ...] = ()
        self.rekey(keys)

    def rekey(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("the API needs at least one signing key")
        self._keys = tuple((key_id(key), key) for key in keys)

    @property
    def signing(self) -> tuple[str, bytes]:
        return self._keys[0]

    def find(self, kid: str) -> bytes | None:
        return next((key for known, key in self._keys if known == kid), None)


@attrs.frozen
class AccessClaims:
    user_id: int
    scope: ApiScope
    token_id: str
    expires_at: int


class InvalidAccess(Exception):
    """The access token is malformed, forged, expired or signed by a key no longer held."""


@attrs.define(eq=False)
class AccessTokens:
    _keys: ApiSigningKeys
    _clock: Clock
    lifetime: timedelta = LIFETIME

    def issue(self, token: ApiToken) -> str:
        now = int(self._clock.now().timestamp())
        kid, key = self._keys.signing
        claims = {
            "sub": str(token.user_id),
            "scope": token.scope.value,
            "tid": token.id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + int(self.lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})

    def verify(self, text: str) -> AccessClaims:
        """The claims of a valid access token. Raises InvalidAccess (its message is
        safe to show: it says what is wrong, never with which key)."""
        try:
            header = jwt.get_unverified_header(text)
        except jwt.InvalidTokenError as exc:
            raise InvalidAccess("the access token is malformed") from exc
        kid = header.get("kid")
        key = self._keys.find(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != ALGORITHM:
            raise InvalidAccess("the access token was not signed by this server, or long ago")
        try:
            # Expiry is checked against our Clock below, not the wall clock.
            claims: dict[str, Any] = jwt.decode(
                text,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidAccess("the access token's signature or claims are invalid") from exc
        return _claims(claims, self._clock.now().timestamp())


def _claims(claims: dict[str, Any], now: float) -> AccessClaims:
    expires, subject, tid = claims["exp"], claims["sub"], claims["tid"]
    if not isinstance(expires, int) or not isinstance(tid, str) or not isinstance(subject, str):
        raise InvalidAccess("the access token's claims are invalid")
    if now >= expires:
        raise InvalidAccess("the access token has expired; exchange the API token again")
    try:
        return AccessClaims(int(subject), ApiScope(claims["scope"]), tid, expires)
    except ValueError as exc:
        raise InvalidAccess("the access token's claims are invalid") from exc
