"""The HTTP API's tokens, as use cases: an owner (or operator) makes, lists and revokes
their own; a caller presenting one is recognised as its owner.

A token is 256 random bits shown once, at creation; only its SHA-256 is stored. Each
has a name (to recognise it) and a scope: ``read`` looks, ``write`` also changes. A
person holds at most :data:`MAX_ACTIVE` active tokens. Making and revoking are
audited (a revocation with its reason). Someone else's token is reported unknown,
exactly like one that does not exist. A token acts as its owner, with the dashboard's
own rules (:class:`~core.services.dashboard.OwnerDashboard`): an owner who no longer
owns a channel is refused, as at the dashboard's door.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import Why
from core.ports.api_tokens import (
    ApiScope,
    ApiToken,
    ApiTokenStore,
    InvalidApiToken,
    UnknownApiToken,
)
from core.ports.clock import Clock, IdGenerator
from core.ports.repositories import UnitOfWorkFactory
from core.services.dashboard import OwnerDashboard, Viewer, required_reason

__all__ = ["MAX_ACTIVE", "MAX_NAME", "TOKEN_PREFIX", "ApiTokens", "CreatedToken", "token_digest"]

MAX_NAME = 64
MAX_ACTIVE = 20
TOKEN_PREFIX = "pgt_"  # noqa: S105 - a marker, not a secret
"""Every API token starts so: recognisable in a leaked log or a secret scanner."""
SHOWN_PREFIX = 12
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used`` is written at most this often: a call need not be a write."""


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@attrs.frozen
class CreatedToken:
    secret: str
    """The token itself: shown to its owner this once, never stored."""
    token: ApiToken


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidApiToken(Why.TOKEN_NAME_MISSING)
    if len(name) > MAX_NAME:
        raise InvalidApiToken(Why.TOKEN_NAME_TOO_LONG, most=MAX_NAME)
    return name


def _scope(text: str) -> ApiScope:
    try:
        return ApiScope(text.strip().lower())
    except ValueError:
        raise InvalidApiToken(Why.TOKEN_SCOPE) from None


@attrs.define(eq=False)
class ApiTokens:
    _store: ApiTokenStore
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _dashboard: OwnerDashboard

    async def _audit(self, viewer: Viewer, action: str, token: ApiToken, **details: str) -> None:
        async with self._uow() as tx:
            await tx.audit.append(
                AuditRecord(
                    f"user:{viewer.user_id}",
                    action,
                    f"api_token:{token.id}",
                    {"name": token.name, "scope": token.scope.value, **details},
                ),
                self._clock.now(),
            )
            await tx.commit()

    async def create(self, viewer: Viewer, name: str, scope: str) -> CreatedToken:
        """A new token of ``viewer``'s. Raises InvalidApiToken (name, scope, too many)."""
        wanted_name, wanted_scope = _name(name), _scope(scope)
        held = await self._store.of_user(viewer.user_id)
        if sum(1 for token in held if token.active) >= MAX_ACTIVE:
            raise InvalidApiToken(Why.TOKENS_TOO_MANY, most=MAX_ACTIVE)
        secret = TOKEN_PREFIX + self._ids.new_id() + self._ids.new_id()
        token = ApiToken(
            self._ids.new_id(),
            viewer.user_id,
            wanted_name,
            wanted_scope,
            secret[:SHOWN_PREFIX],
            self._clock.now(),
        )
        await self._store.add(token, token_digest(secret))
        await self._audit(viewer, "api_token.created", token)
        return CreatedToken(secret, token)

    async def tokens(self, viewer: Viewer) -> Sequence[ApiToken]:
        return await self._store.of_user(viewer.user_id)

    async def revoke(self, viewer: Viewer, token_id: str, reason: str) -> ApiToken:
        """Revoke one of ``viewer``'s active tokens, saying why; its access tokens stop
        working at once. Raises UnknownApiToken, InvalidApiToken (no reason)."""
        why = required_reason(reason)
        token = await self._store.get(token_id)
        if token is None or token.user_id != viewer.user_id or not token.active:
            raise UnknownApiToken(Why.NO_SUCH_TOKEN)
        if not await self._store.revoke(token.id, viewer.user_id, self._clock.now()):
            raise UnknownApiToken(Why.NO_SUCH_TOKEN)
        await self._audit(viewer, "api_token.revoked", token, reason=why)
        return token

    async def authenticate(self, secret: str) -> ApiToken | None:
        """The active token ``secret`` is, its use recorded; None for anything else."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        token = await self._store.by_digest(token_digest(secret))
        if token is not None:
            await self._note_use(token)
        return token

    async def still_active(self, token_id: str) -> ApiToken | None:
        """``token_id``'s token while it is active, its use recorded; else None."""
        token = await self._store.get(token_id)
        if token is None or not token.active:
            return None
        await self._note_use(token)
        return token

    async def viewer(self, token: ApiToken) -> Viewer:
        """Who ``token`` acts as. Raises NotAuthorized as the dashboard's door does."""
        return await self._dashboard.admit(token.user_id)

    async def _note_use(self, token: ApiToken) -> None:
        now = self._clock.now()
        if token.last_used is None or now - token.last_used >= TOUCH_EVERY:
            await self._store.touch(token.id, now)
