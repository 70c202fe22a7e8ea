"""Stored credentials (payout wallets, provider keys) encrypted with MultiFernet.

Keys come from ``PAYGATE_ENCRYPTION_KEYS``: comma-separated Fernet keys, newest first.
The first key encrypts; every key decrypts, so a new key can be put in front while the
old ones still read what is stored, and ``rotate`` moves each value to the new key
before the old one is dropped from the list.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.ports.security import DecryptionFailed

ENV_VAR = "PAYGATE_ENCRYPTION_KEYS"
KEY_BYTES = 32


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 of 32 bytes), to put first in the list."""
    return Fernet.generate_key().decode("ascii")


def _key_problem(key: str) -> str | None:
    """What is wrong with ``key``, in words that never repeat the key itself."""
    if not key:
        return "is empty"
    encoded = key.encode("ascii", errors="replace")
    try:
        raw = base64.urlsafe_b64decode(encoded)
    except (binascii.Error, ValueError):
        return "is not url-safe base64"
    if base64.urlsafe_b64encode(raw) != encoded:
        return "is not url-safe base64"
    if len(raw) != KEY_BYTES:
        return f"decodes to {len(raw)} bytes, a Fernet key is {KEY_BYTES}"
    return None


def _fernets(keys: Sequence[str], where: str) -> list[Fernet]:
    if not keys:
        raise ValueError(f"{where}: no key given; put at least one Fernet key there")
    fernets: list[Fernet] = []
    seen: dict[str, int] = {}
    for position, key in enumerate(keys, start=1):
        problem = _key_problem(key)
        if problem is None and key in seen:
            problem = f"repeats key {seen[key]}"
        if problem is not None:
            raise ValueError(
                f"{where}: key {position} of {len(keys)} {problem} "
                "(each key is 44 characters of url-safe base64, as made by generate_key)"
            )
        seen[key] = position
        fernets.append(Fernet(key))
    return fernets


def _strict_token(token: bytes) -> bytes:
    """Refuse what the Fernet spec calls invalid but the library's lenient base64
    decoder lets through (junk after the padding, characters outside the alphabet):
    a token is stored and compared as written, so only its one canonical spelling
    may decrypt."""
    try:
        raw = base64.urlsafe_b64decode(token)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed("the token is not url-safe base64") from exc
    if base64.urlsafe_b64encode(raw) != token:
        raise DecryptionFailed("the token is not canonical url-safe base64")
    return token


class FernetCipher:
    """Implements the Cipher port. The first key encrypts; all keys decrypt."""

    def __init__(self, keys: Sequence[str], *, source: str = "the Fernet key list") -> None:
        """``keys`` newest first; ``source`` names where they came from in errors."""
        fernets = _fernets(keys, source)
        self._multi = MultiFernet(fernets)
        self._newest = fernets[0]

    @classmethod
    def from_env_value(cls, value: str) -> FernetCipher:
        """Parse ``PAYGATE_ENCRYPTION_KEYS`` (comma-separated, newest first); a bad or
        missing key is named by its position, never by its value."""
        keys = [part.strip() for part in value.split(",")]
        if keys == [""]:
            keys = []
        return cls(keys, source=ENV_VAR)

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._multi.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._multi.decrypt(_strict_token(token))
        except InvalidToken as exc:
            raise DecryptionFailed(
                "the token was not made by any configured key, or was altered"
            ) from exc

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the first key, keeping the token's original timestamp."""
        try:
            return self._multi.rotate(_strict_token(token))
        except InvalidToken as exc:
            raise DecryptionFailed(
                "cannot rotate: the token was not made by any configured key, or was altered"
            ) from exc

    def is_current(self, token: bytes) -> bool:
        """Whether ``token`` decrypts under the first key: already rotated, nothing to
        do (what makes a re-run of a rotation skip what the last run finished)."""
        try:
            self._newest.decrypt(_strict_token(token))
        except (InvalidToken, DecryptionFailed):
            return False
        return True
