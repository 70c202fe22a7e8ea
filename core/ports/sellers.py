"""Who may sell here: the operator's say over which Telegram users own channels."""

from __future__ import annotations

from typing import Protocol

from core.domain.ids import UserId


class SellerPolicy(Protocol):
    async def may_sell(self, user_id: UserId) -> bool:
        """May this Telegram user own channels here (register a pair, or reclaim one)?"""
        ...
