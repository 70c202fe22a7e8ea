"""OAuth2 access tokens for Secret Manager: the metadata server (on Google Cloud) or a
service-account key (anywhere else).

Both give a token with an ``expires_in``; it is reused until a minute before then, so
a process asks once an hour, not once per secret read.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.outbound.secrets.errors import SecretAccessDenied, SecretStoreRefused
from core.ports.errors import Unavailable

DEFAULT_METADATA_URL = "http://metadata.google.internal"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_EARLY = 60.0
"""Seconds before its expiry a token is renewed: never sent in its last minute."""
_ASSERTION_LIFETIME = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _CachedToken:
    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._token: tuple[str, float] | None = None

    def current(self) -> str | None:
        if self._token is not None and self._monotonic() < self._token[1]:
            return self._token[0]
        return None

    def keep(self, answer: Mapping[str, Any], source: str) -> str:
        token, expires_in = answer.get("access_token"), answer.get("expires_in", 0)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
            raise Unavailable(f"{source} answered without an access token")
        self._token = (token, self._monotonic() + max(0.0, float(expires_in) - _EARLY))
        return token


async def _post_or_get(
    session: aiohttp.ClientSession, method: str, url: str, source: str, **kwargs: Any
) -> Mapping[str, Any]:
    try:
        async with session.request(
            method, url, timeout=aiohttp.ClientTimeout(total=5.0), allow_redirects=False, **kwargs
        ) as response:
            status, body = response.status, await response.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise Unavailable(f"{source} cannot be reached ({type(exc).__name__})") from exc
    if status in (400, 401, 403):
        raise SecretAccessDenied(f"{source} refused to issue a token (HTTP {status})")
    if status != 200:
        raise Unavailable(f"{source} failed to issue a token (HTTP {status})")
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise Unavailable(f"{source} answered with something other than JSON") from exc
    if not isinstance(answer, dict):
        raise Unavailable(f"{source} answered with something other than a JSON object")
    return answer


class MetadataServerToken:
    """The token of the machine's own service account, from the metadata server that
    Compute Engine, Cloud Run and GKE (with workload identity) provide."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str = DEFAULT_METADATA_URL,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._url = (
            base_url.rstrip("/") + "/computeMetadata/v1/instance/service-accounts/default/token"
        )
        self._cache = _CachedToken(monotonic)

    async def __call__(self) -> str:
        token = self._cache.current()
        if token is not None:
            return token
        answer = await _post_or_get(
            self._session,
            "GET",
            self._url,
            "the metadata server",
            headers={"Metadata-Flavor": "Google"},
        )
        return self._cache.keep(answer, "the metadata server")


class ServiceAccountToken:
    """A token for a service-account key (the JSON file the console downloads): a
    JWT signed with its private key (RS256), exchanged at its ``token_uri``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        key: Mapping[str, Any],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._email = str(key["client_email"])
            self._token_uri = str(key["token_uri"])
            self._key_id = str(key.get("private_key_id", ""))
            private = serialization.load_pem_private_key(
                str(key["private_key"]).encode("ascii"), password=None
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise SecretStoreRefused(
                "the service-account key lacks client_email, token_uri or a PEM private_key"
            ) from exc
        if not isinstance(private, rsa.RSAPrivateKey):
            raise SecretStoreRefused("the service-account key is not an RSA key")
        self._private = private
        self._session = session
        self._wall_clock = wall_clock
        self._cache = _CachedToken(monotonic)

    @classmethod
    def from_file(cls, session: aiohttp.ClientSession, path: Path) -> ServiceAccountToken:
        try:
            key = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SecretStoreRefused(f"{path} is not a readable service-account key") from exc
        if not isinstance(key, dict):
            raise SecretStoreRefused(f"{path} is not a service-account key (a JSON object)")
        return cls(session, key)

    def assertion(self) -> str:
        """The signed JWT the token endpoint takes."""
        now = int(self._wall_clock())
        header = {"alg": "RS256", "typ": "JWT", "kid": self._key_id}
        claims = {
            "iss": self._email,
            "scope": SCOPE,
            "aud": self._token_uri,
            "iat": now,
            "exp": now + _ASSERTION_LIFETIME,
        }
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64(signature)

    async def __call__(self) -> str:
        token = self._cache.current()
        if token is not None:
            return token
        answer = await _post_or_get(
            self._session,
            "POST",
            self._token_uri,
            "the service account's token endpoint",
            data={"grant_type": JWT_BEARER, "assertion": self.assertion()},
        )
        return self._cache.keep(answer, "the service account's token endpoint")
