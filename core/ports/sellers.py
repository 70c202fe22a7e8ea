"""Who may sell here: the operator's say over which Telegram users own channels."""

from __future__ import annotations

from typing import Protocol

from core.domain.ids import UserId
from core.domain.seller import SellerRequest


class SellerPolicy(Protocol):
    async def may_sell(self, user_id: UserId) -> bool:
        """May this Telegram user own channels here (register a pair, or reclaim one)?"""
        ...


class SellerRequestRepository(Protocol):
    """Requests to sell here, one per Telegram user (see :mod:`core.domain.seller`)."""

    async def get(self, user_id: UserId) -> SellerRequest | None: ...

    async def add(self, request: SellerRequest) -> bool:
        """Store a new request; False (and nothing written) when the user has one."""
        ...

    async def decide(self, request: SellerRequest) -> bool:
        """Write the request's decision only if the stored one is still pending: of two
        operators deciding at once, one wins and the other gets False."""
        ...

    async def update(self, request: SellerRequest) -> None:
        """Overwrite the stored request (a name erased). Raises NotFound."""
        ...
