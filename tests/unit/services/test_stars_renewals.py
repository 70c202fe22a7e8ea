"""Telegram Stars subscriptions that renew themselves: the first payment keeps the
subscription, each renewal extends it from its end exactly once through the payment
path, and canceling stops the renewals while access lasts to the end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.errors import InvalidTier
from core.domain.ids import ChannelId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.payment import EventOutcome
from core.domain.subscription import Subscription
from core.domain.tier import Rail, Tier
from core.ports.errors import Unavailable
from core.ports.payments import ProviderRejected
from core.services.stars import RecordStarsPayment, StarsPayment
from core.services.stars_renewals import CancelStarsRenewal, NoRenewal
from tests.unit.services.world import KEYRING, World, build, usd

USER = UserId(42)
RENEWING = (Tier(1, usd(10), 30, Money.of(500, "XTR"), stars_renews=True),)
FIRST = "stxFirst"


@pytest.fixture
def world() -> World:
    return build(stars=True)


def _record(world: World) -> RecordStarsPayment:
    assert world.stars_payment is not None
    return world.stars_payment


def _cancel(world: World) -> CancelStarsRenewal:
    assert world.cancel_renewal is not None
    return world.cancel_renewal


def first(order: str) -> StarsPayment:
    return StarsPayment(USER, FIRST, order, 500, "XTR", recurring=True, first_recurring=True)


def renewal(order: str, charge: str = "stxRenewal1", amount: int = 500) -> StarsPayment:
    return StarsPayment(USER, charge, order, amount, "XTR", recurring=True)


async def subscribed(world: World) -> tuple[ChannelId, str]:
    """USER pays the first month of a renewing Stars tier; the channel and order."""
    channel = await world.channel(RENEWING)
    invoice = await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    order = str(OrderId.issue(invoice.intent_id, KEYRING))
    result = await _record(world).execute(first(order))
    assert result.outcome is EventOutcome.GRANTED
    return channel.id, order


async def subscription(world: World, channel_id: ChannelId) -> Subscription:
    async with world.uow() as tx:
        found = await tx.subscriptions.find(USER, channel_id)
    assert found is not None
    return found


def test_only_a_thirty_day_tier_with_a_stars_price_renews_in_stars() -> None:
    with pytest.raises(InvalidTier):
        Tier(1, usd(10), 30, stars_renews=True)
    with pytest.raises(InvalidTier):
        Tier(1, usd(10), 31, Money.of(500, "XTR"), stars_renews=True)

    assert Tier(1, usd(10), 30, Money.of(500, "XTR"), stars_renews=True).stars_renews


async def test_a_renewing_tier_asks_the_provider_for_a_subscription(world: World) -> None:
    channel = await world.channel(RENEWING)

    await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    await world.checkout.execute(USER, channel.id, 1)

    assert world.stars is not None
    assert [r.renews for r in world.stars.requests] == [True]
    assert [r.renews for r in world.gateway.requests] == [False]


async def test_the_first_payment_keeps_the_subscription_once(world: World) -> None:
    channel_id, order = await subscribed(world)

    again = await _record(world).execute(first(order))

    assert again.outcome is EventOutcome.DUPLICATE
    async with world.uow() as tx:
        kept = await tx.stars_renewals.of_user(USER)
    assert [(r.charge_id, r.channel_id, r.tier, r.renews) for r in kept] == [
        (FIRST, channel_id, 1, True)
    ]
    assert (await world.audit_actions()).count("stars.subscription_started") == 1


async def test_a_renewal_extends_from_the_end_exactly_once(world: World) -> None:
    channel_id, order = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at
    world.clock.advance(timedelta(days=29))

    renewed = await _record(world).execute(renewal(order))
    again = await _record(world).execute(renewal(order))

    assert (renewed.outcome, renewed.status) == (EventOutcome.GRANTED, IntentStatus.FINISHED)
    assert again.outcome is EventOutcome.DUPLICATE
    assert again.intent_id == renewed.intent_id
    assert (await subscription(world, channel_id)).expires_at == end + timedelta(days=30)
    assert renewed.intent_id is not None
    paid = await world.intent(renewed.intent_id)
    assert (paid.payment_id, paid.price, paid.tier) == ("stxRenewal1", Money.of(500, "XTR"), 1)
    assert (await world.audit_actions()).count("intent.renewal") == 1


async def test_each_renewal_is_its_own_month(world: World) -> None:
    channel_id, order = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at

    await _record(world).execute(renewal(order, "stxRenewal1"))
    await _record(world).execute(renewal(order, "stxRenewal2"))

    assert (await subscription(world, channel_id)).expires_at == end + timedelta(days=60)


async def test_a_renewal_stands_beside_an_open_checkout_of_the_same_tier(world: World) -> None:
    channel_id, order = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at
    await world.checkout.execute(USER, channel_id, 1)  # an open crypto intent of tier 1

    renewed = await _record(world).execute(renewal(order))

    assert renewed.outcome is EventOutcome.GRANTED
    assert (await subscription(world, channel_id)).expires_at == end + timedelta(days=30)


async def test_a_renewal_of_another_amount_grants_nothing(world: World) -> None:
    channel_id, order = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at

    result = await _record(world).execute(renewal(order, amount=400))

    assert result.outcome is not EventOutcome.GRANTED
    assert (await subscription(world, channel_id)).expires_at == end


async def test_a_renewal_of_an_order_still_open_pays_that_order_and_nothing_more(
    world: World,
) -> None:
    channel = await world.channel(RENEWING)
    invoice = await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    order = str(OrderId.issue(invoice.intent_id, KEYRING))

    result = await _record(world).execute(renewal(order))

    assert (result.outcome, result.intent_id) == (EventOutcome.GRANTED, invoice.intent_id)
    assert (await subscription(world, channel.id)).expires_at == world.clock.now() + timedelta(
        days=30
    )
    assert "intent.renewal" not in await world.audit_actions()


async def test_a_renewal_of_no_order_of_ours_grants_nothing(world: World) -> None:
    _, order = await subscribed(world)
    forged = order[:-1] + ("A" if order[-1] != "A" else "B")

    result = await _record(world).execute(renewal(forged))

    assert result.outcome is EventOutcome.UNKNOWN_ORDER


async def test_canceling_stops_the_renewals_and_keeps_access_to_the_end(world: World) -> None:
    channel_id, _ = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at

    stopped = await _cancel(world).execute(USER)

    assert [r.charge_id for r in stopped] == [FIRST]
    assert world.stars is not None and world.stars.stopped == [(USER, FIRST)]
    async with world.uow() as tx:
        kept = await tx.stars_renewals.get(FIRST)
    assert kept is not None and kept.canceled_at == world.clock.now()
    assert (await subscription(world, channel_id)).expires_at == end
    assert "stars.subscription_canceled" in await world.audit_actions()
    with pytest.raises(NoRenewal):
        await _cancel(world).execute(USER)


async def test_nothing_is_kept_canceled_while_telegram_is_unreachable(world: World) -> None:
    await subscribed(world)
    assert world.stars is not None
    world.stars.fail_next(Unavailable("Telegram is down"))

    with pytest.raises(Unavailable):
        await _cancel(world).execute(USER)

    async with world.uow() as tx:
        kept = await tx.stars_renewals.get(FIRST)
    assert kept is not None and kept.renews


async def test_a_subscription_telegram_no_longer_knows_is_kept_canceled(world: World) -> None:
    await subscribed(world)
    assert world.stars is not None
    world.stars.fail_next(ProviderRejected("CHARGE_ID_INVALID"))

    stopped = await _cancel(world).execute(USER)

    assert [r.charge_id for r in stopped] == [FIRST]
    async with world.uow() as tx:
        kept = await tx.stars_renewals.get(FIRST)
        trail = await tx.audit.all()
    assert kept is not None and not kept.renews
    canceled = [e for e in trail if e.action == "stars.subscription_canceled"]
    assert [e.details["telegram"] for e in canceled] == ["refused"]


async def test_someone_without_a_renewing_subscription_has_nothing_to_cancel(
    world: World,
) -> None:
    await subscribed(world)

    with pytest.raises(NoRenewal):
        await _cancel(world).execute(UserId(77))
    assert world.stars is not None and world.stars.stopped == []


async def test_a_one_off_stars_payment_keeps_no_subscription(world: World) -> None:
    channel = await world.channel((Tier(1, usd(10), 30, Money.of(500, "XTR")),))
    invoice = await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    order = str(OrderId.issue(invoice.intent_id, KEYRING))

    await _record(world).execute(StarsPayment(USER, "stxOnce", order, 500, "XTR"))

    async with world.uow() as tx:
        assert await tx.stars_renewals.of_user(USER) == []


async def test_a_subscription_telegram_renews_is_not_reminded_until_canceled(
    world: World,
) -> None:
    channel_id, _ = await subscribed(world)
    end = (await subscription(world, channel_id)).expires_at
    world.clock.advance(end - world.clock.now() - timedelta(hours=20))

    while_renewing = await world.expire.execute()
    await _cancel(world).execute(USER)
    after_cancel = await world.expire.execute()

    assert (while_renewing.reminders, after_cancel.reminders) == (0, 1)


async def test_status_says_telegram_renews_it_until_canceled(world: World) -> None:
    await subscribed(world)

    renewing = await world.status.execute(USER)
    await _cancel(world).execute(USER)
    canceled = await world.status.execute(USER)

    assert [(v.active, v.renews_in_stars) for v in renewing] == [(True, True)]
    assert [(v.active, v.renews_in_stars) for v in canceled] == [(True, False)]
