"""Plans through real ``paygate bot``, ``web`` and ``worker`` processes (issue 21): a
subscriber takes a channel's free trial from its deep link, is let in, expires and is
removed like any subscriber, is refused a second trial when they come back, and then
buys the lifetime tier, which no sweep ever ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.outbound.sqla import tables as t
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.offer_token import TRIAL, OfferToken
from core.domain.subscription import SubscriptionStatus
from core.domain.tier import LIFETIME_END, Tier
from core.domain.trial import TRIAL_TIER, TrialOffer
from sandbox.nowpayments.emulator import PayPlan
from tests.e2e.shop import TIER, Sent, Shop, open_shop
from tests.services import require_postgres

LIFETIME = Tier.lifetime(2, Money.of(99, "USD"))


async def said(shop: Shop, what: str, found: Callable[[Sent], bool], within: float = 60) -> Sent:
    deadline = time.monotonic() + within
    while True:
        for sent in shop.sent():
            if found(sent):
                return sent
        if time.monotonic() > deadline:
            texts = [s.text[:80] for s in shop.sent()]
            pytest.fail(f"timed out waiting for {what}: {texts}\n{shop.fleet.logs()}")
        await asyncio.sleep(0.2)


async def until(shop: Shop, what: str, check: Callable[[], bool], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{shop.fleet.logs()}")
        await asyncio.sleep(0.2)


async def subscription_row(shop: Shop, user: int) -> tuple[str, int, object]:
    async with shop.engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    t.subscriptions.c.status, t.subscriptions.c.tier, t.subscriptions.c.expires_at
                ).where(t.subscriptions.c.user_id == user)
            )
        ).one()
    return row.status, row.tier, row.expires_at


@pytest.mark.postgres
async def test_a_trial_expires_is_not_given_twice_and_a_lifetime_never_ends(
    tmp_path: Path,
) -> None:
    require_postgres()
    async with open_shop(
        tmp_path, web=1, workers=1, bots=1, ipn_retries=5, ipn_retry_delay=0.2
    ) as shop:
        await shop.set_up_channels(1)
        channel = shop.channels[0]
        services = shop.seller.services
        await services.set_tiers.execute(channel.owner_id, channel.id, (TIER, LIFETIME))
        await services.set_trial.execute(channel.owner_id, channel.id, TrialOffer(7))
        (person,) = shop.add_subscribers(1)
        trial_link = f"/start {OfferToken(channel.id, TRIAL).encode(services.keyring)}"
        await shop.start_fleet()

        # The Trial button's deep link: the bot process starts the trial at once...
        shop.telegram.user_sends(person, trial_link)
        started = await said(
            shop, "the trial's start", lambda s: s.chat_id == person and "free trial" in s.text
        )
        assert started.text.startswith("Your free trial of Shop 0 has started: 7 days")
        # ...and the worker sends the personal link, which lets the person in.
        invite = await said(
            shop, "the trial's invite", lambda s: s.chat_id == person and "trial runs" in s.text
        )
        assert invite.link is not None
        shop.admit(person, invite.link)
        assert shop.is_member(person)
        status, tier, _ = await subscription_row(shop, person)
        assert (status, tier) == (SubscriptionStatus.ACTIVE.value, TRIAL_TIER)

        # The trial's end is an ordinary expiry: reminded, then removed.
        shop.move_clock(timedelta(days=7) - timedelta(hours=70))
        await said(shop, "the reminder", lambda s: s.chat_id == person and "ends on" in s.text)
        shop.move_clock(timedelta(days=7, minutes=5))
        await said(shop, "the goodbye", lambda s: s.chat_id == person and "has ended" in s.text)
        await until(shop, "the removal", lambda: not shop.is_member(person))

        # Back at the channel, the Trial button is refused: once per person, ever.
        shop.telegram.user_sends(person, trial_link)
        refused = await said(
            shop, "the refusal", lambda s: s.chat_id == person and "already had" in s.text
        )
        assert refused.text.startswith("You have already had the trial of this channel")

        # The lifetime tier: paid, let in, and never ended by any sweep.
        issued = await services.checkout.execute(UserId(person), channel.id, LIFETIME.number)
        invoice_id = issued.url.split("iid=")[1].split("&")[0]
        await shop.payments.pay(invoice_id, PayPlan(statuses=("waiting", "finished")))
        forever = await said(
            shop, "the lifetime invite", lambda s: s.chat_id == person and "for life" in s.text
        )
        assert forever.text.startswith("Payment confirmed. Welcome to Shop 0, for life!")
        assert forever.link is not None
        shop.admit(person, forever.link)
        shop.move_clock(timedelta(days=7 + 3 * 365))
        await asyncio.sleep(3)  # several sweeps at 1 s
        assert shop.is_member(person)
        status, tier, ends = await subscription_row(shop, person)
        assert (status, tier, ends) == (SubscriptionStatus.ACTIVE.value, 2, LIFETIME_END)
        async with shop.engine.connect() as connection:
            trials = (await connection.execute(select(t.trials.c.user_id))).scalars().all()
        assert trials == [person]

        codes = await shop.fleet.stop_all()
        assert codes == {p.name: 0 for p in shop.fleet.processes}, shop.fleet.logs()
