"""Unguessable ids for production processes."""

from __future__ import annotations

import secrets

ID_BYTES = 16


class RandomIdGenerator:
    """Implements the IdGenerator port: 128 random bits from the OS's CSPRNG as 32 hex
    digits, which fits the port's "1-32 ASCII letters and digits" and cannot be
    guessed, so an id in a deep link or order id reveals nothing and enumerates nothing."""

    def new_id(self) -> str:
        return secrets.token_hex(ID_BYTES)
