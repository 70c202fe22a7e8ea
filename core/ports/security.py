"""Secrets, encryption, replay protection and rate limits."""

from __future__ import annotations

from typing import Protocol

import attrs

from core.ports.errors import NotFound, PortError, Unavailable

__all__ = [
    "Cipher",
    "DecryptionFailed",
    "NonceStore",
    "NotFound",
    "RateDecision",
    "RateLimiter",
    "Secret",
    "SecretStore",
    "Unavailable",
]


class DecryptionFailed(PortError):
    """The ciphertext was not made by any of our keys, or was altered."""


@attrs.frozen(repr=False)
class Secret:
    """A secret value that never shows itself in a repr, a log line or an f-string."""

    _value: str = attrs.field(alias="value")

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class SecretStore(Protocol):
    async def get(self, name: str) -> Secret:
        """Raises NotFound, Unavailable."""
        ...


class Cipher(Protocol):
    def encrypt(self, plaintext: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes:
        """Raises DecryptionFailed."""
        ...

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the current key (key rotation)."""
        ...


class NonceStore(Protocol):
    async def remember(self, scope: str, nonce: str, ttl_seconds: int) -> bool:
        """True the first time ``nonce`` is seen in ``scope`` within ``ttl_seconds``."""
        ...

    async def seen(self, scope: str, nonce: str) -> bool:
        """Whether ``nonce`` is remembered in ``scope`` now; remembers nothing. For
        marks set only once the work they stand for is done."""
        ...


@attrs.frozen
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    """Seconds until the next request would be allowed (0 when allowed)."""


class RateLimiter(Protocol):
    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        """Take ``cost`` tokens from the bucket named ``key`` (1..capacity; ValueError
        otherwise). ``cost=0`` only looks: allowed if the bucket holds a token, and
        nothing is taken (for limits charged after the fact, on failures only)."""
        ...
