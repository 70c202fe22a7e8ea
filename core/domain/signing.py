"""MAC keys for the identifiers we hand out (offer tokens, order ids).

HMAC-SHA256 from the standard library. A keyring holds the current key first and,
during a rotation, older keys after it: new tags use the first key, any key verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import attrs

MIN_KEY_BYTES = 32
TAG_BYTES = 16
MIN_TAG_BYTES = 12
"""Shortest tag we make (96 bits, as HMAC-SHA1-96): for data with a hard size limit,
such as Telegram's 64-byte callback data."""


def _check_size(size: int) -> None:
    if not MIN_TAG_BYTES <= size <= TAG_BYTES:
        raise ValueError(f"a tag is {MIN_TAG_BYTES} to {TAG_BYTES} bytes, not {size}")


def _check_keys(_: object, __: attrs.Attribute[tuple[bytes, ...]], keys: tuple[bytes, ...]) -> None:
    if not keys:
        raise ValueError("a keyring needs at least one key")
    for key in keys:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"MAC keys must be at least {MIN_KEY_BYTES} bytes")


@attrs.define(repr=False, eq=False)
class MacKeyring:
    """Signs with the first key, verifies with any; never shows a key in its repr.

    One keyring is shared by every part of a process, and :meth:`rekey` replaces its
    keys in place when the deployment's secrets are re-read, so a rotated key takes
    effect without a restart and without each caller looking it up per request."""

    keys: tuple[bytes, ...] = attrs.field(validator=_check_keys)

    def __repr__(self) -> str:
        return f"MacKeyring(<{len(self.keys)} keys>)"

    def rekey(self, keys: tuple[bytes, ...]) -> None:
        """Sign with ``keys[0]`` and accept any of ``keys`` from now on. Validated like
        the keys given at construction; one assignment, so a concurrent sign or verify
        sees the old ring or the new one, never a mix."""
        self.keys = keys

    @staticmethod
    def _tag(key: bytes, purpose: str, message: str, size: int) -> str:
        mac = hmac.new(key, f"{purpose}|{message}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:size]).rstrip(b"=").decode("ascii")

    def sign(self, purpose: str, message: str, size: int = TAG_BYTES) -> str:
        """A base64url tag binding ``message`` to ``purpose``: 22 characters, or 16
        for a ``size`` of :data:`MIN_TAG_BYTES`."""
        _check_size(size)
        return self._tag(self.keys[0], purpose, message, size)

    def verify(self, purpose: str, message: str, tag: str, size: int = TAG_BYTES) -> bool:
        """Constant-time check of ``tag`` against every key of the ring. ``size`` is
        the purpose's, never the tag's own length, so a short tag is not a weaker one."""
        _check_size(size)
        given = tag.encode("ascii", errors="replace")
        ok = False
        for key in self.keys:
            # No early exit: the time taken does not tell which key matched.
            expected = self._tag(key, purpose, message, size).encode("ascii")
            ok |= hmac.compare_digest(expected, given)
        return ok
