"""The HTTP API's tokens in process memory (tests, one process)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from core.domain.ids import UserId
from core.ports.api_tokens import ApiToken
from core.ports.errors import Conflict


class InMemoryApiTokenStore:
    """Implements ApiTokenStore."""

    def __init__(self) -> None:
        self._tokens: dict[str, ApiToken] = {}
        self._digests: dict[str, str] = {}
        self._order: dict[str, int] = {}

    async def add(self, token: ApiToken, digest: str) -> None:
        if token.id in self._tokens or digest in self._digests:
            raise Conflict("this API token exists already")
        self._tokens[token.id] = token
        self._digests[digest] = token.id
        self._order[token.id] = len(self._order)

    async def by_digest(self, digest: str) -> ApiToken | None:
        token_id = self._digests.get(digest)
        token = None if token_id is None else self._tokens[token_id]
        return token if token is not None and token.active else None

    async def get(self, token_id: str) -> ApiToken | None:
        return self._tokens.get(token_id)

    async def of_user(self, user_id: UserId) -> Sequence[ApiToken]:
        mine = [t for t in self._tokens.values() if t.user_id == user_id]
        return sorted(mine, key=lambda t: (t.created_at, self._order[t.id]), reverse=True)

    async def revoke(self, token_id: str, user_id: UserId, at: datetime) -> bool:
        token = self._tokens.get(token_id)
        if token is None or token.user_id != user_id or not token.active:
            return False
        self._tokens[token_id] = attrs.evolve(token, revoked_at=at)
        return True

    async def touch(self, token_id: str, at: datetime) -> None:
        token = self._tokens.get(token_id)
        if token is not None:
            self._tokens[token_id] = attrs.evolve(token, last_used=at)

    async def forget(self, user_id: UserId) -> int:
        gone = {t.id for t in self._tokens.values() if t.user_id == user_id}
        for token_id in gone:
            del self._tokens[token_id]
        self._digests = {d: i for d, i in self._digests.items() if i not in gone}
        return len(gone)
