"""Where the self-renewing Stars subscriptions are kept, and the provider call that
stops one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.ids import UserId
from core.domain.stars_renewal import StarsRenewal
from core.ports.payments import RefundingGateway


class StarsRenewalRepository(Protocol):
    """In the unit of work, as ``stars_renewals``."""

    async def add(self, renewal: StarsRenewal) -> bool:
        """Keep a new one; False (nothing written) when its charge id is known."""
        ...

    async def get(self, charge_id: str) -> StarsRenewal | None: ...

    async def of_user(self, user_id: UserId) -> Sequence[StarsRenewal]:
        """One person's, newest first."""
        ...

    async def cancel(self, renewal: StarsRenewal) -> bool:
        """Store ``renewal``'s cancellation if the stored one still renews: of two
        units of work canceling at once exactly one gets True."""
        ...


class RenewalControl(Protocol):
    """The payment provider's switch for a subscription's renewals."""

    async def stop_renewal(self, user_id: UserId, charge_id: str) -> None:
        """Telegram charges ``user_id`` no more for the subscription ``charge_id``
        started; it lasts to the end of what was paid. Raises ProviderRejected (no
        such live subscription) or Unavailable."""
        ...


class RenewingGateway(RefundingGateway, RenewalControl, Protocol):
    """A provider that sells, refunds and renews subscriptions (Telegram Stars)."""
