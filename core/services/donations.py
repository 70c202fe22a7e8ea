"""Start a donation: a subscriber chose an amount in the Donate conversation.

The amount is checked against the channel's bounds (at most two decimals), then it
takes the same invoice path as a subscription; fulfilment records the donation,
thanks the donor and tells the owner.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from core.domain.donation import validate_donation
from core.domain.errors import InvalidAmount, UnknownChannel, Why
from core.domain.ids import ChannelId, UserId
from core.domain.payment import Purpose
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import InvoiceIssuer, InvoiceOrder, IssuedInvoice


@attrs.define(eq=False)
class StartDonation:
    _uow: UnitOfWorkFactory
    _issuer: InvoiceIssuer

    async def execute(
        self, user_id: UserId, channel_id: ChannelId, amount: Decimal
    ) -> IssuedInvoice:
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
            except NotFound as exc:
                raise UnknownChannel(Why.DONATIONS_GONE) from exc
        if channel.donation_bounds is None:
            raise InvalidAmount(Why.NO_DONATIONS, title=channel.title)
        money = validate_donation(amount, channel.donation_bounds)
        return await self._issuer.issue(
            InvoiceOrder(
                purpose=Purpose.DONATION,
                user_id=user_id,
                channel=channel,
                price=money,
                description="Donation",
            )
        )
