"""Where the HTTP API's tokens are kept: an owner's named, scoped credentials.

The store holds a token's SHA-256 (``digest``), never the token: the tokens are 256
random bits, so a copy of the store opens nothing and needs no slow hash. A revoked
token stays listed (with when it was revoked) and is never found by its digest again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import attrs

from core.domain.errors import DomainError
from core.domain.ids import UserId
from core.ports.errors import Conflict, Unavailable

__all__ = [
    "ApiScope",
    "ApiToken",
    "ApiTokenStore",
    "Conflict",
    "InvalidApiToken",
    "Unavailable",
    "UnknownApiToken",
]


class ApiScope(StrEnum):
    READ = "read"
    """Looks only."""
    WRITE = "write"
    """Looks and changes (pause, resume)."""

    def allows(self, needed: ApiScope) -> bool:
        return self is ApiScope.WRITE or needed is ApiScope.READ


class InvalidApiToken(DomainError):
    """A token's name or scope breaks the rules, or an owner holds too many."""


class UnknownApiToken(DomainError):
    """No such token among the viewer's own (someone else's answers the same)."""


@attrs.frozen
class ApiToken:
    id: str
    user_id: UserId
    name: str
    scope: ApiScope
    prefix: str
    """The token's first characters, to tell tokens apart in a list; opens nothing."""
    created_at: datetime
    last_used: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiTokenStore(Protocol):
    """Raises Unavailable when the store cannot be reached."""

    async def add(self, token: ApiToken, digest: str) -> None:
        """Keep ``token`` under ``digest``. Raises Conflict when its id or digest is taken."""
        ...

    async def by_digest(self, digest: str) -> ApiToken | None:
        """The active token with this digest; None when there is none or it was revoked."""
        ...

    async def get(self, token_id: str) -> ApiToken | None: ...

    async def of_user(self, user_id: UserId) -> Sequence[ApiToken]:
        """Every token of ``user_id``, revoked ones too, newest first."""
        ...

    async def revoke(self, token_id: str, user_id: UserId, at: datetime) -> bool:
        """Revoke ``user_id``'s active token ``token_id``; False when there is no such
        active token of theirs (nothing changes)."""
        ...

    async def touch(self, token_id: str, at: datetime) -> None:
        """Record a use at ``at``; nothing happens for an unknown token."""
        ...

    async def forget(self, user_id: UserId) -> int:
        """Delete every token of ``user_id``, revoked ones too (erasure); how many."""
        ...
