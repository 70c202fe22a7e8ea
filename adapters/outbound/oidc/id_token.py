"""The checks an OpenID Connect ID token must pass before we believe it (OpenID
Connect Core 1.0, 3.1.3.7): signed by a key of the provider's JWKS with an
asymmetric algorithm (never ``none`` or an HMAC keyed with something public), issued
by the configured issuer, for our client id, not expired, and carrying the nonce of
the login it answers. Telegram's token names the person in its ``id`` claim (their
Telegram user id; ``sub`` is an opaque per-bot identifier).

The signing keys come from a :class:`KeySource`; an unknown ``kid`` asks it for a
fresh set once (the provider rotated its keys) before the token is refused."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

import attrs
import jwt

from core.domain.ids import UserId
from core.ports.clock import Clock
from core.ports.web_login import login_refused

ALGORITHMS = ("RS256", "ES256", "EdDSA")
"""Asymmetric algorithms we accept (Telegram signs with RS256 unless the bot's owner
picks another in BotFather)."""

LEEWAY = timedelta(seconds=60)
"""Clock difference tolerated between the provider and us."""

REQUIRED = ["iss", "aud", "exp", "iat", "nonce", "id"]


class KeySource(Protocol):
    async def key(self, kid: str, *, refresh: bool) -> jwt.PyJWK | None:
        """The provider's key ``kid``; ``refresh``: re-read the key set first (at
        most so often). None when the provider has no such key."""
        ...


@attrs.frozen
class IdTokenClaims:
    user_id: UserId
    name: str


@attrs.define(eq=False)
class IdTokenVerifier:
    issuer: str
    client_id: str
    keys: KeySource
    clock: Clock

    async def verify(self, token: str, nonce: str) -> IdTokenClaims:
        """The claims of ``token`` after every check. Raises WebLoginRefused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise login_refused("the identity token is malformed") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise login_refused("the identity token is not signed with an accepted algorithm")
        if not isinstance(kid, str) or not kid:
            raise login_refused("the identity token names no signing key")
        key = await self.keys.key(kid, refresh=False) or await self.keys.key(kid, refresh=True)
        if key is None:
            raise login_refused("the identity token is signed with a key the provider lacks")
        claims = self._decode(token, key, algorithm)
        return self._checked(claims, nonce)

    def _decode(self, token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self.issuer,
                # Expiry is checked against our Clock below, not the host's time.
                options={
                    "require": REQUIRED,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise login_refused("the identity token's signature does not match") from exc
        except jwt.InvalidIssuerError as exc:
            raise login_refused("the identity token was issued by someone else") from exc
        except jwt.InvalidAudienceError as exc:
            raise login_refused("the identity token is for another client") from exc
        except jwt.PyJWTError as exc:
            raise login_refused(f"the identity token is not valid: {exc}") from exc

    def _checked(self, claims: Mapping[str, Any], nonce: str) -> IdTokenClaims:
        now = self.clock.now().timestamp()
        exp, iat = claims["exp"], claims["iat"]
        if not _number(exp) or not _number(iat):
            raise login_refused("the identity token's times are malformed")
        if exp + LEEWAY.total_seconds() < now:
            raise login_refused("the identity token has expired; log in again")
        if iat - LEEWAY.total_seconds() > now:
            raise login_refused("the identity token was issued in the future")
        given = claims["nonce"]
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            raise login_refused("the identity token answers another login")
        return IdTokenClaims(_user_id(claims["id"]), str(claims.get("name") or ""))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _user_id(value: object) -> UserId:
    """Telegram's ``id`` claim: the user id, a number (or its decimal string)."""
    if isinstance(value, bool):
        raise login_refused("the identity token names no Telegram user")
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise login_refused("the identity token names no Telegram user")
    return UserId(value)
