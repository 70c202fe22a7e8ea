"""Secrets from Google Cloud Secret Manager over its REST API.

``GET {base}/v1/projects/{project}/secrets/{id}/versions/latest:access`` with a bearer
token answers ``{"name": ..., "payload": {"data": <base64>, "dataCrc32c": "<int64>"}}``.
The token comes from an injected callable (the metadata server on GCP, a service
account elsewhere), so this module knows nothing about how Google issues tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping

import aiohttp

from adapters.outbound.secrets.crc32c import crc32c
from adapters.outbound.secrets.errors import SecretAccessDenied, SecretStoreRefused
from adapters.outbound.secrets.names import check_secret_name
from core.ports.errors import NotFound, Unavailable
from core.ports.security import Secret

DEFAULT_BASE_URL = "https://secretmanager.googleapis.com"

AccessTokenProvider = Callable[[], Awaitable[str]]
"""Returns a current OAuth2 access token with the cloud-platform scope."""

# A project id (6-30 lowercase letters, digits, hyphens) or a project number.
_PROJECT = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
_PREFIX = re.compile(r"\A[A-Za-z0-9_-]{0,100}\Z")
_VERSION = re.compile(r"\A(?:latest|[1-9][0-9]{0,18})\Z")
_TRANSIENT = {408, 429}
_DETAIL_LIMIT = 200


def _google_reason(body: bytes) -> str:
    """Google's ``{"error": {"status", "message"}}`` in a few words; it names the
    resource and the missing permission, never a payload."""
    try:
        error = json.loads(body)["error"]
        status, message = str(error.get("status", "")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "no error detail"
    detail = ": ".join(part for part in (status, message) if part) or "no error detail"
    return detail[:_DETAIL_LIMIT]


def _retry_after(value: str | None) -> float | None:
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return float(value.strip())


def _decode_bytes_field(data: str) -> bytes:
    """Proto3 JSON ``bytes``: standard or url-safe base64, padded or not."""
    normal = data.replace("-", "+").replace("_", "/")
    normal += "=" * (-len(normal) % 4)
    return base64.b64decode(normal, validate=True)


class GcpSecretManagerStore:
    """Implements SecretStore: secret ``bot_token`` is Secret Manager secret
    ``<prefix>bot_token``, latest version (or the version pinned for it).

    Values are cached for ``cache_ttl`` seconds (0 turns the cache off): a process asks
    for the same few secrets on every webhook, and Secret Manager bills and rate-limits
    per access, while a rotation only needs to be seen within a short while. Errors are
    never cached, so a fixed permission takes effect on the next call.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        project: str,
        access_token: AccessTokenProvider,
        *,
        base_url: str = DEFAULT_BASE_URL,
        secret_prefix: str = "",
        cache_ttl: float = 30.0,
        timeout: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        versions: Mapping[str, str] | None = None,
    ) -> None:
        """``versions`` pins some secrets to a version number (``{"mac_keys": "3"}``);
        the others are read at ``latest``."""
        if _PROJECT.match(project) is None:
            raise ValueError(f"not a GCP project id or number: {project!r}")
        if _PREFIX.match(secret_prefix) is None:
            raise ValueError(
                f"a secret prefix is up to 100 letters, digits, '_' or '-', got {secret_prefix!r}"
            )
        if cache_ttl < 0:
            raise ValueError("cache_ttl is zero (no cache) or a number of seconds")
        if timeout <= 0:
            raise ValueError("timeout is a positive number of seconds")
        for secret, version in (versions or {}).items():
            check_secret_name(secret)
            if _VERSION.match(version) is None:
                raise ValueError(
                    f"the version of secret {secret!r} is a number or 'latest', got {version!r}"
                )
        self._versions = dict(versions or {})
        self._session = session
        self._project = project
        self._access_token = access_token
        self._base_url = base_url.rstrip("/")
        self._prefix = secret_prefix
        self._cache_ttl = cache_ttl
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Secret]] = {}

    async def get(self, name: str) -> Secret:
        check_secret_name(name)
        cached = self._cache.get(name)
        if cached is not None and self._monotonic() < cached[0]:
            return cached[1]
        secret = await self._access(name)
        if self._cache_ttl > 0:
            self._cache[name] = (self._monotonic() + self._cache_ttl, secret)
        return secret

    async def _access(self, name: str) -> Secret:
        version = self._versions.get(name, "latest")
        resource = f"projects/{self._project}/secrets/{self._prefix}{name}/versions/{version}"
        token = await self._access_token()
        try:
            async with self._session.get(
                f"{self._base_url}/v1/{resource}:access",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                body = await response.read()
        except TimeoutError as exc:
            raise Unavailable(
                f"Secret Manager did not answer for {resource} within {self._timeout.total} s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(
                f"Secret Manager cannot be reached for {resource} ({type(exc).__name__})"
            ) from exc

        if status == 200:
            return self._payload(name, resource, body)
        reason = _google_reason(body)
        if status == 404:
            raise NotFound(
                f"secret {name!r} is missing: Secret Manager has no {resource} ({reason})"
            )
        if status in (401, 403):
            raise SecretAccessDenied(
                f"Secret Manager refused to let us read {resource} (HTTP {status}, {reason}); "
                "the account needs secretmanager.versions.access on it"
            )
        if status in _TRANSIENT or status >= 500:
            raise Unavailable(
                f"Secret Manager failed on {resource} (HTTP {status}, {reason})",
                retry_after=_retry_after(retry_after),
            )
        raise SecretStoreRefused(f"Secret Manager refused {resource} (HTTP {status}, {reason})")

    def _payload(self, name: str, resource: str, body: bytes) -> Secret:
        try:
            payload = json.loads(body)["payload"]
            data = payload["data"]
            checksum = payload.get("dataCrc32c")
            if not isinstance(data, str):
                raise TypeError("payload.data is not a string")
            raw = _decode_bytes_field(data)
            expected = None if checksum is None else int(checksum)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            # A 200 without a well-formed payload is a proxy or an outage page, not
            # Google's answer; another try may well succeed.
            raise Unavailable(
                f"Secret Manager's answer for {resource} has no readable payload"
            ) from exc
        if expected is not None and crc32c(raw) != expected:
            raise Unavailable(f"the payload of {resource} arrived corrupted (CRC32C mismatch)")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretStoreRefused(f"secret {name!r}: {resource} is not UTF-8 text") from None
        if not value:
            raise NotFound(f"secret {name!r} is missing: {resource} is empty")
        return Secret(value)
