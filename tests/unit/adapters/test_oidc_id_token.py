"""The ID token's checks: a token Telegram's provider would sign passes; a wrong
signature, issuer, audience, nonce or user id, an expired token, one signed with
``none`` or an HMAC, and one naming a key the provider lacks are refused; a token
signed with a key the provider published since the last read is accepted after one
re-read of its key set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.outbound.memory.clock import DEFAULT_START, FrozenClock
from adapters.outbound.oidc.id_token import IdTokenVerifier
from core.ports.web_login import WebLoginRefused

ISSUER = "https://oauth.telegram.org"
CLIENT = "7123456789"
NONCE = "n-0123456789abcdef"
NOW = int(DEFAULT_START.timestamp())


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = new_key(), new_key()


def public(key: rsa.RSAPrivateKey, kid: str) -> jwt.PyJWK:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwt.PyJWK(jwk | {"kid": kid, "alg": "RS256"})


class Keys:
    """The provider's key set as the verifier reads it: ``later`` appears on a re-read."""

    def __init__(self, now: dict[str, jwt.PyJWK], later: dict[str, jwt.PyJWK] | None = None):
        self.known = dict(now)
        self.later = later or {}
        self.refreshes = 0

    async def key(self, kid: str, *, refresh: bool) -> jwt.PyJWK | None:
        if refresh:
            self.refreshes += 1
            self.known.update(self.later)
        return self.known.get(kid)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "opaque-subject",
        "iat": NOW,
        "exp": NOW + 600,
        "nonce": NONCE,
        "id": 8101,
        "name": "Olivia",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key: Any = KEY, kid: str = "k1", algorithm: str = "RS256", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=algorithm, headers={"kid": kid})


def verifier(keys: Keys | None = None, clock: FrozenClock | None = None) -> IdTokenVerifier:
    return IdTokenVerifier(
        ISSUER, CLIENT, keys or Keys({"k1": public(KEY, "k1")}), clock or FrozenClock()
    )


async def refused(candidate: str, check: IdTokenVerifier | None = None) -> str:
    with pytest.raises(WebLoginRefused) as caught:
        await (check or verifier()).verify(candidate, NONCE)
    return str(caught.value)


async def test_a_token_the_provider_signed_for_us_names_the_telegram_user() -> None:
    identity = await verifier().verify(token(), NONCE)
    assert (identity.user_id, identity.name) == (8101, "Olivia")


async def test_the_id_claim_may_be_a_decimal_string() -> None:
    assert (await verifier().verify(token(id="8101"), NONCE)).user_id == 8101


async def test_a_signature_by_another_key_is_refused() -> None:
    assert "signature" in await refused(token(key=OTHER_KEY))


async def test_an_altered_token_is_refused() -> None:
    header, _claims, signature = token().split(".")
    forged = jwt.encode(claims(id=1), OTHER_KEY, algorithm="RS256").split(".")[1]
    assert "signature" in await refused(f"{header}.{forged}.{signature}")


async def test_another_issuer_is_refused() -> None:
    assert "issued by someone else" in await refused(token(iss="https://evil.example"))


async def test_another_audience_is_refused() -> None:
    assert "another client" in await refused(token(aud="999"))


async def test_another_nonce_is_refused() -> None:
    assert "another login" in await refused(token(nonce="n-from-another-login"))


async def test_a_token_without_a_nonce_is_refused() -> None:
    assert "nonce" in await refused(token(nonce=None))


async def test_an_expired_token_is_refused_past_the_minute_of_leeway() -> None:
    clock = FrozenClock()
    check = verifier(clock=clock)
    late = token(exp=NOW - 30)
    assert (await check.verify(late, NONCE)).user_id == 8101  # within the leeway
    clock.advance(timedelta(seconds=31))
    assert "expired" in await refused(late, check)


async def test_a_token_from_the_future_is_refused() -> None:
    assert "future" in await refused(token(iat=NOW + 3600, exp=NOW + 7200))


async def test_a_token_without_the_users_id_is_refused() -> None:
    assert "id" in await refused(token(id=None))
    assert "no Telegram user" in await refused(token(id=True))
    assert "no Telegram user" in await refused(token(id="olivia"))


async def test_unsigned_and_hmac_tokens_are_refused() -> None:
    unsigned = jwt.encode(claims(), "", algorithm="none", headers={"kid": "k1"})
    assert "accepted algorithm" in await refused(unsigned)
    hmac_signed = token(key="a-shared-secret-of-thirty-two-bytes!", algorithm="HS256")
    assert "accepted algorithm" in await refused(hmac_signed)


async def test_a_malformed_token_is_refused() -> None:
    assert "malformed" in await refused("not-a-jwt")


async def test_an_unknown_key_is_looked_up_again_once_then_accepted() -> None:
    keys = Keys({"k1": public(KEY, "k1")}, later={"k2": public(OTHER_KEY, "k2")})
    identity = await verifier(keys).verify(token(key=OTHER_KEY, kid="k2"), NONCE)
    assert identity.user_id == 8101
    assert keys.refreshes == 1


async def test_a_key_the_provider_never_published_is_refused_after_one_re_read() -> None:
    keys = Keys({"k1": public(KEY, "k1")})
    assert "key the provider lacks" in await refused(token(kid="k9"), verifier(keys))
    assert keys.refreshes == 1
