"""Bulk re-encryption under the newest key, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from core.ports.security import Cipher, DecryptionFailed


def _rotate_batch(cipher: Cipher, tokens: list[bytes]) -> list[bytes]:
    rotated: list[bytes] = []
    for index, token in enumerate(tokens):
        try:
            rotated.append(cipher.rotate(token))
        except DecryptionFailed as exc:
            raise DecryptionFailed(
                f"token at index {index} of {len(tokens)} could not be rotated: {exc}"
            ) from exc
    return rotated


async def rotate_all(cipher: Cipher, tokens: Iterable[bytes]) -> list[bytes]:
    """Every token re-encrypted under the cipher's current key, in the same order.

    AES and HMAC over thousands of rows is CPU work that would stall webhooks and the
    bot if it ran on the loop, so it runs in a worker thread. All or nothing: one
    token that no key opens fails the batch, naming its index, so the caller writes
    back nothing half-rotated."""
    batch = list(tokens)
    return await asyncio.to_thread(_rotate_batch, cipher, batch)
