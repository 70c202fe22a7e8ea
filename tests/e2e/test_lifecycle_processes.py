"""Refunds and partial payments through real ``paygate web`` and ``worker`` processes,
as the provider reports them: a refunded payment's subscriber loses what it bought
and is told, and so is the owner; a partly paid invoice tells the payer what is
missing and where to send it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.outbound.sqla import tables as t
from core.domain.subscription import SubscriptionStatus
from sandbox.nowpayments.emulator import PayPlan
from tests.e2e.shop import Kind, open_shop
from tests.services import require_postgres


@pytest.mark.postgres
async def test_a_refund_takes_access_back_and_a_partial_payment_says_what_is_missing(
    tmp_path: Path,
) -> None:
    require_postgres()
    async with open_shop(tmp_path, web=1, workers=1, ipn_retries=5, ipn_retry_delay=0.2) as shop:
        await shop.set_up_channels(1)
        refunded, partial, paying = shop.add_subscribers(3)
        owner = shop.channels[0].owner_id
        await shop.start_fleet()

        await shop.buy_all([paying], lambda _: PayPlan(statuses=("waiting", "finished")))
        await shop.drained("the paying subscriber's link", {Kind.INVITE: 1})
        await shop.buy_all(
            [refunded], lambda _: PayPlan(statuses=("waiting", "finished", "refunded"))
        )
        await shop.buy_all(
            [partial],
            lambda _: PayPlan(
                pay_amount=Decimal("0.004"),
                actually_paid=Decimal("0.003"),
                statuses=("waiting", "partially_paid"),
            ),
        )
        await shop.drained("the refund and the partial payment", {Kind.OWNER_NEW: 2})

        to = {user: [s for s in shop.sent() if s.chat_id == user] for user in (refunded, partial)}
        assert any("was refunded" in s.text and "access has ended" in s.text for s in to[refunded])
        assert any(s.text.startswith("Refund in Shop 0") for s in shop.sent() if s.chat_id == owner)
        (note,) = [s for s in to[partial] if "incomplete" in s.text]
        assert "0.003 BTC of 0.004 BTC arrived; 0.001 BTC is missing" in note.text
        assert note.link is not None and "iid=" in note.link

        async with shop.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(t.subscriptions.c.user_id, t.subscriptions.c.status)
                )
            ).all()
        statuses = {row.user_id: row.status for row in rows}
        assert statuses == {
            paying: SubscriptionStatus.ACTIVE.value,
            refunded: SubscriptionStatus.REVOKED.value,
        }
        codes = await shop.fleet.stop_all()
        assert codes == {p.name: 0 for p in shop.fleet.processes}, shop.fleet.logs()
