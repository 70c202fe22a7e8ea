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


def _check_keys(_: object, __: attrs.Attribute[tuple[bytes, ...]], keys: tuple[bytes, ...]) -> None:
    if not keys:
        raise ValueError("a keyring needs at least one key")
    for key in keys:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"MAC keys must be at least {MIN_KEY_BYTES} bytes")


@attrs.frozen(repr=False)
class MacKeyring:
    """Signs with the first key, verifies with any; never shows a key in its repr."""

    keys: tuple[bytes, ...] = attrs.field(validator=_check_keys)

    def __repr__(self) -> str:
        return f"MacKeyring(<{len(self.keys)} keys>)"

    @staticmethod
    def _tag(key: bytes, purpose: str, message: str) -> str:
        mac = hmac.new(key, f"{purpose}|{message}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:TAG_BYTES]).rstrip(b"=").decode("ascii")

    def sign(self, purpose: str, message: str) -> str:
        """A 22-character base64url tag binding ``message`` to ``purpose``."""
        return self._tag(self.keys[0], purpose, message)

    def verify(self, purpose: str, message: str, tag: str) -> bool:
        """Constant-time check of ``tag`` against every key of the ring."""
        given = tag.encode("ascii", errors="replace")
        ok = False
        for key in self.keys:
            # No early exit: the time taken does not tell which key matched.
            ok |= hmac.compare_digest(self._tag(key, purpose, message).encode("ascii"), given)
        return ok
