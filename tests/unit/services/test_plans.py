"""Plans as a subscriber and an owner meet them: lifetime and season tiers, and trials
(issue 21), over the in-memory adapters wired as a process wires them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.catalog.notices import render
from core.domain.channel import Channel
from core.domain.errors import LifetimeHeld, SeasonOver
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.messages import Offer
from core.domain.outbox import IssueInvite, RemoveMember, SendMessage
from core.domain.subscription import Subscription, SubscriptionStatus
from core.domain.tier import LIFETIME_END, Tier
from core.domain.trial import TRIAL_TIER, TrialOffer, TrialRefusal, TrialUnavailable
from core.services.broadcasts import DownReason, StaleReason
from tests.unit.services.world import OWNER, START, World, usd

BUYER = UserId(501)
SEASON_END = date(2026, 3, 31)  # START is 2026-03-01
PLANS = (
    Tier(1, usd(10), 30),
    Tier.season(2, usd(20), SEASON_END),
    Tier.lifetime(3, usd(99)),
)


async def plans(world: World, trial: TrialOffer | None = None) -> Channel:
    channel = await world.channel(PLANS)
    if trial is not None:
        channel = await world.set_trial.execute(OWNER, channel.id, trial)
    return channel


async def subscription(world: World, channel: Channel, user: UserId = BUYER) -> Subscription:
    async with world.uow() as tx:
        found = await tx.subscriptions.find(user, channel.id)
    assert found is not None
    return found


def sent_to(world: World, user: UserId) -> list[str]:
    return [p.message.text for p in world.messenger.visible(ChatId(user))]


async def buy(world: World, channel: Channel, tier: int, user: UserId = BUYER) -> None:
    await world.pay(await world.checkout.execute(user, channel.id, tier))


# ---------------------------------------------------------------- lifetime
async def test_a_lifetime_purchase_never_expires_and_is_never_reminded(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 3)

    world.clock.advance(timedelta(days=20 * 365))
    report = await world.expire.execute()

    assert (report.reminders, report.expired) == (0, 0)
    sub = await subscription(world, channel)
    assert (sub.status, sub.expires_at) == (SubscriptionStatus.ACTIVE, LIFETIME_END)
    assert not any(isinstance(e, RemoveMember) for e in await world.effects())


async def test_buying_lifetime_on_a_timed_subscription_makes_it_lifetime(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 1)
    world.clock.advance(timedelta(days=10))

    await buy(world, channel, 3)

    sub = await subscription(world, channel)
    assert (sub.expires_at, sub.tier, sub.period) == (LIFETIME_END, 3, 1)
    told = await world.texts_to(BUYER)
    assert "Payment confirmed. Your access to Alpha Signals is now for life." in told


async def test_renewing_a_lifetime_is_refused_politely(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 3)

    for tier in (1, 2, 3):
        with pytest.raises(LifetimeHeld):
            await world.checkout.execute(BUYER, channel.id, tier)
    assert len(world.gateway.requests) == 1


async def test_the_lifetime_invite_says_for_life_and_its_link_expires_within_ten_years(
    world: World,
) -> None:
    channel = await plans(world)
    await buy(world, channel, 3)
    await world.drain()

    (invite,) = [t for t in sent_to(world, BUYER) if "Welcome" in t]
    assert invite.startswith("Payment confirmed. Welcome to Alpha Signals, for life!")
    sub = await subscription(world, channel)
    async with world.uow() as tx:
        grant = await tx.grants.latest_for(sub.id)
    assert grant is not None and grant.link_expires_at is not None
    assert grant.link_expires_at <= START + timedelta(days=3660)


async def test_the_owner_is_told_a_lifetime_was_bought(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 3)
    told = [t for t in await world.texts_to(OWNER) if "99" in t]
    assert told and "lifetime" in told[0]


# ------------------------------------------------------------------ seasons
@pytest.mark.parametrize("days_in", [0, 12, 29])
async def test_a_season_ends_on_its_date_whatever_the_day_it_is_bought(
    world: World, days_in: int
) -> None:
    channel = await plans(world)
    world.clock.advance(timedelta(days=days_in))

    await buy(world, channel, 2)

    sub = await subscription(world, channel)
    assert sub.expires_at == datetime(2026, 4, 1, tzinfo=UTC)


async def test_a_season_is_refused_once_its_date_has_passed(world: World) -> None:
    channel = await plans(world)
    world.clock.advance(timedelta(days=31))

    with pytest.raises(SeasonOver):
        await world.checkout.execute(BUYER, channel.id, 2)
    assert world.gateway.requests == []


async def test_a_season_is_reminded_before_its_date_and_ends_as_usual(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 2)
    world.clock.advance(timedelta(days=30, hours=12) - timedelta(hours=72))

    assert (await world.expire.execute()).reminders == 1
    world.clock.advance(timedelta(days=3))
    assert (await world.expire.execute()).expired == 1
    assert (await subscription(world, channel)).status is SubscriptionStatus.EXPIRED


async def test_the_offer_drops_a_season_once_it_has_ended(world: World) -> None:
    channel = await plans(world)
    (post,) = [p for p in (await world.plan.execute()).posts if isinstance(p.message, Offer)]
    await world.record_post.execute(channel.id, post.kind, MessageId(77), None, post.tiers_version)
    assert isinstance(post.message, Offer)
    assert [t.tier.number for t in post.message.tiers] == [1, 2, 3]

    world.clock.advance(timedelta(days=31))
    (again,) = [p for p in (await world.plan.execute()).posts if isinstance(p.message, Offer)]

    assert again.reason is StaleReason.TIERS_CHANGED
    assert isinstance(again.message, Offer)
    assert [t.tier.number for t in again.message.tiers] == [1, 3]


async def test_an_owner_cannot_put_a_season_on_sale_after_its_date(world: World) -> None:
    channel = await plans(world)
    world.clock.advance(timedelta(days=31))

    with pytest.raises(SeasonOver):
        await world.set_tiers.execute(OWNER, channel.id, (Tier.season(1, usd(5), SEASON_END),))
    # the ended season may stay listed while other tiers change
    kept = await world.set_tiers.execute(OWNER, channel.id, (PLANS[1], Tier(1, usd(12), 30)))
    assert [t.number for t in kept.tiers] == [1, 2]


async def test_a_refunded_lifetime_is_taken_back(world: World) -> None:
    channel = await plans(world)
    invoice = await world.checkout.execute(BUYER, channel.id, 3)
    await world.pay(invoice)
    world.clock.advance(timedelta(days=2))

    await world.verify.execute(world.notification(invoice, IntentStatus.REFUNDED))

    sub = await subscription(world, channel)
    assert sub.status is SubscriptionStatus.REVOKED
    assert any(isinstance(e, RemoveMember) for e in await world.effects())


# ------------------------------------------------------------------- trials
async def test_a_free_trial_grants_its_days_once_through_the_invite(world: World) -> None:
    channel = await plans(world, TrialOffer(7))

    started = await world.take_trial.execute(BUYER, channel.id)

    assert (started.days, started.expires_at) == (7, START + timedelta(days=7))
    sub = await subscription(world, channel)
    assert (sub.tier, sub.expires_at) == (TRIAL_TIER, START + timedelta(days=7))
    assert [type(e) for e in await world.effects() if isinstance(e, IssueInvite)] == [IssueInvite]
    await world.drain()
    (invite,) = [t for t in sent_to(world, BUYER) if "Welcome" in t]
    assert invite.startswith("Welcome to Alpha Signals! Your trial runs until")


async def test_a_second_press_gets_no_second_trial(world: World) -> None:
    channel = await plans(world, TrialOffer(7))
    await world.take_trial.execute(BUYER, channel.id)

    with pytest.raises(TrialUnavailable) as refused:
        await world.take_trial.execute(BUYER, channel.id)

    assert refused.value.reason is TrialRefusal.ALREADY_TAKEN
    assert (await subscription(world, channel)).expires_at == START + timedelta(days=7)


async def test_a_trial_ends_as_an_ordinary_expiry_with_reminders(world: World) -> None:
    channel = await plans(world, TrialOffer(7))
    await world.take_trial.execute(BUYER, channel.id)

    world.clock.advance(timedelta(days=7) - timedelta(hours=70))
    assert (await world.expire.execute()).reminders == 1
    world.clock.advance(timedelta(days=3))
    assert (await world.expire.execute()).expired == 1

    effects = await world.effects()
    assert RemoveMember(channel.closed_chat_id, BUYER) in effects
    ended = [
        render(e.message)
        for e in effects
        if isinstance(e, SendMessage) and "has ended" in render(e.message).text
    ]
    # the Subscribe again button offers a tier, not a second trial
    assert ended and f"{channel.id}_1_" in (ended[0].buttons[0][0].callback_data or "")


async def test_no_second_trial_after_it_ended_and_the_person_came_back(world: World) -> None:
    channel = await plans(world, TrialOffer(7))
    await world.take_trial.execute(BUYER, channel.id)
    world.clock.advance(timedelta(days=8))
    await world.expire.execute()
    await world.set_trial.execute(OWNER, channel.id, TrialOffer(14))  # even a new trial

    with pytest.raises(TrialUnavailable) as refused:
        await world.take_trial.execute(BUYER, channel.id)
    assert refused.value.reason is TrialRefusal.ALREADY_TAKEN


async def test_no_trial_for_someone_who_paid_for_the_channel(world: World) -> None:
    channel = await plans(world, TrialOffer(7))
    await buy(world, channel, 1)

    with pytest.raises(TrialUnavailable) as refused:
        await world.take_trial.execute(BUYER, channel.id)
    assert refused.value.reason is TrialRefusal.ALREADY_PAID


async def test_no_trial_where_none_is_offered_or_it_was_turned_off(world: World) -> None:
    channel = await plans(world)
    with pytest.raises(TrialUnavailable):
        await world.take_trial.execute(BUYER, channel.id)
    await world.set_trial.execute(OWNER, channel.id, TrialOffer(7))
    await world.set_trial.execute(OWNER, channel.id, None)
    with pytest.raises(TrialUnavailable):
        await world.take_trial.execute(BUYER, channel.id)


async def test_a_paid_trial_goes_through_checkout_and_payment_once(world: World) -> None:
    channel = await plans(world, TrialOffer(3, usd("1.50")))

    with pytest.raises(TrialUnavailable):  # a paid trial is not taken for free
        await world.take_trial.execute(BUYER, channel.id)
    invoice = await world.checkout.execute(BUYER, channel.id, TRIAL_TIER)
    assert invoice.price == usd("1.50")
    await world.pay(invoice)

    sub = await subscription(world, channel)
    assert (sub.tier, sub.expires_at) == (TRIAL_TIER, START + timedelta(days=3))
    with pytest.raises(TrialUnavailable) as refused:
        await world.checkout.execute(BUYER, channel.id, TRIAL_TIER)
    assert refused.value.reason is TrialRefusal.ALREADY_PAID


async def test_the_offer_shows_the_trial_button(world: World) -> None:
    await plans(world, TrialOffer(7))
    (post,) = [p for p in (await world.plan.execute()).posts if isinstance(p.message, Offer)]
    assert isinstance(post.message, Offer) and post.message.trial is not None
    shown = render(post.message)
    assert shown.buttons[-1][0].text == "Free trial: 7 days"
    assert "_9_" in (shown.buttons[-1][0].url or "")


async def test_status_shows_a_trial_as_a_trial_and_renews_into_a_tier(world: World) -> None:
    channel = await plans(world, TrialOffer(7))
    await world.take_trial.execute(BUYER, channel.id)

    (view,) = await world.status.execute(BUYER)

    assert view.tier == TRIAL_TIER
    assert f"{channel.id}_1_" in view.renew_token


async def test_an_offer_of_only_ended_seasons_comes_down(world: World) -> None:
    channel = await world.channel((Tier.season(1, usd(20), SEASON_END),))
    (post,) = [p for p in (await world.plan.execute()).posts if isinstance(p.message, Offer)]
    await world.record_post.execute(channel.id, post.kind, MessageId(77), None, post.tiers_version)

    world.clock.advance(timedelta(days=31))
    plan = await world.plan.execute()

    assert not [p for p in plan.posts if isinstance(p.message, Offer)]
    (down,) = plan.take_downs
    assert (down.message_id, down.reason) == (MessageId(77), DownReason.NO_TIERS)


async def test_a_season_that_ended_is_renewed_into_a_tier_still_sold(world: World) -> None:
    channel = await plans(world)
    await buy(world, channel, 2)
    world.clock.advance(timedelta(days=31, hours=1))

    assert (await world.expire.execute()).expired == 1

    ended = [
        render(e.message)
        for e in await world.effects()
        if isinstance(e, SendMessage) and "has ended" in render(e.message).text
    ]
    assert ended and f"{channel.id}_1_" in (ended[0].buttons[0][0].callback_data or "")


async def test_a_season_paid_after_its_end_still_lets_the_payer_in_for_a_day(
    world: World,
) -> None:
    channel = await plans(world)
    invoice = await world.checkout.execute(BUYER, channel.id, 2)
    world.clock.advance(timedelta(days=31))  # the payment arrives after the season

    await world.pay(invoice)

    sub = await subscription(world, channel)
    assert sub.expires_at == world.clock.now() + timedelta(days=1)
    assert [e for e in await world.effects() if isinstance(e, IssueInvite)]
