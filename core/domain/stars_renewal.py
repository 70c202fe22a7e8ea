"""A Telegram Stars subscription that renews itself (a tier sold ``+auto``).

Telegram holds the subscription: it charges the payer every 30 days and sends each
renewal as a new payment. PayGate keeps only what it needs to act on it: the charge
id of the first payment (the subscription's name in ``editUserStarSubscription``),
who pays for which channel and tier, and whether the renewal was canceled. A
canceled subscription keeps what was paid for, to its end; it is not renewed.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from core.domain.ids import ChannelId, UserId


@attrs.define
class StarsRenewal:
    charge_id: str
    """The ``telegram_payment_charge_id`` of the payment that started it."""
    user_id: UserId
    channel_id: ChannelId
    tier: int
    started_at: datetime
    canceled_at: datetime | None = None

    @property
    def renews(self) -> bool:
        return self.canceled_at is None

    def cancel(self, at: datetime) -> bool:
        """Stop the renewals from ``at`` on; False if they were stopped already."""
        if self.canceled_at is not None:
            return False
        self.canceled_at = at
        return True
