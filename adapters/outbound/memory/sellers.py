"""Seller policies kept in the process: everyone, or the operator's allowlist
(``PAYGATE_SELLERS``)."""

from __future__ import annotations

from collections.abc import Iterable

from core.domain.ids import UserId


class EveryoneSells:
    """Implements SellerPolicy: any Telegram user may own channels (the default)."""

    async def may_sell(self, user_id: UserId) -> bool:
        return True


class AllowlistedSellers:
    """Implements SellerPolicy: only the listed Telegram users may own channels."""

    def __init__(self, sellers: Iterable[UserId]) -> None:
        self._sellers = frozenset(sellers)

    async def may_sell(self, user_id: UserId) -> bool:
        return user_id in self._sellers
