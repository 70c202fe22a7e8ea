"""Plans through the real bot (issue 21): the owner sets lifetime and season tiers and
a trial; a subscriber takes the trial from its deep link, once, and buys for life."""

from __future__ import annotations

from datetime import date, timedelta

from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.offer_token import TRIAL, OfferToken
from core.domain.tier import Tier
from core.domain.trial import TRIAL_TIER, TrialOffer
from tests.contract.bot.harness import SUBSCRIBER, Bot, labels
from tests.unit.services.world import KEYRING, OWNER, usd


def trial_token(channel: Channel) -> str:
    return OfferToken(channel.id, TRIAL).encode(KEYRING)


async def test_tiers_sets_a_season_and_a_lifetime_tier(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/tiers 1 1=10USD/30d 2=20USD/until 2026-04-30 3=99USD/life")

    stored = await bot.world.channel_now(channel.id)
    assert stored.tiers == (
        Tier(1, usd(10), 30),
        Tier.season(2, usd(20), date(2026, 4, 30)),
        Tier.lifetime(3, usd(99)),
    )
    assert answer.text.splitlines()[1:4] == [
        "• tier 1: 30 days — 10 USD",
        "• tier 2: until 2026-04-30 — 20 USD",
        "• tier 3: lifetime — 99 USD",
    ]


async def test_tiers_shows_a_season_past_its_date_as_ended(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/tiers 1 1=10USD/30d 2=20USD/until 2026-03-10")
    bot.world.clock.advance(timedelta(days=10))

    answer = await bot.say(OWNER, "/tiers 1")

    assert answer.text.splitlines()[1:4] == [
        "   • tier 1: 30 days — 10 USD",
        "   • tier 2: until 2026-03-10 — 20 USD (ended, no longer sold)",
        "   trial: no trial",
    ]


async def test_a_season_with_an_impossible_date_is_not_read(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/tiers 1 2=20USD/until 2027-02-30")

    assert answer.text.startswith("I could not read “2=20USD/until 2027-02-30”")
    assert (await bot.world.channel_now(channel.id)).tiers[1] == Tier(2, usd(25), 90)


async def test_trial_sets_a_free_or_paid_trial_or_none(bot: Bot, channel: Channel) -> None:
    free = await bot.say(OWNER, "/trial 1 7d")
    assert (await bot.world.channel_now(channel.id)).trial == TrialOffer(7)
    assert free.text.startswith("Alpha Signals: Free trial: 7 days, once per person")

    await bot.say(OWNER, "/trial 1 3d 1.50 USD")
    assert (await bot.world.channel_now(channel.id)).trial == TrialOffer(3, usd("1.50"))

    off = await bot.say(OWNER, "/trial 1 off")
    assert (await bot.world.channel_now(channel.id)).trial is None
    assert off.text == "Alpha Signals: no trial is offered."


async def test_trial_refuses_what_it_cannot_read(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(OWNER, "/trial 1 soon")

    assert "7d for a free week" in answer.text
    assert (await bot.world.channel_now(channel.id)).trial is None


async def test_a_free_trial_from_its_deep_link_starts_once(bot: Bot, channel: Channel) -> None:
    await bot.world.set_trial.execute(OWNER, channel.id, TrialOffer(7))

    started = await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")
    again = await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")

    assert started.text.startswith("Your free trial of Alpha Signals has started: 7 days")
    assert again.text == (
        "You have already had the trial of this channel; it is once per person. "
        "Pick a tier to subscribe."
    )
    async with bot.world.uow() as tx:
        sub = await tx.subscriptions.find(SUBSCRIBER, channel.id)
        assert await tx.trials.count(channel.id) == 1
    assert sub is not None and sub.tier == TRIAL_TIER


async def test_a_paid_trial_is_confirmed_into_an_invoice(bot: Bot, channel: Channel) -> None:
    await bot.world.set_trial.execute(OWNER, channel.id, TrialOffer(3, usd("1.50")))

    offer = await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")
    assert offer.text.splitlines()[:2] == [
        "Alpha Signals",
        "Trial: 3 days for 1.50 USD, once per person.",
    ]
    await bot.press(SUBSCRIBER, offer, "Confirm")

    invoice = await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the invoice link",
    )
    (request,) = bot.world.gateway.requests
    assert request.price == Money.of("1.50", "USD")
    assert invoice.text.startswith("Alpha Signals: a trial of 3 days for 1.50 USD.")


async def test_someone_who_paid_is_refused_the_trial(bot: Bot, channel: Channel) -> None:
    await bot.world.set_trial.execute(OWNER, channel.id, TrialOffer(7))
    await bot.world.pay(await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1))

    answer = await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")

    assert answer.text.startswith("The trial is for people new to this channel")


async def test_a_lifetime_offer_says_lifetime_and_renewing_it_is_refused(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.set_tiers.execute(
        OWNER, channel.id, (Tier(1, usd(10), 30), Tier.lifetime(3, usd(99)))
    )
    token = OfferToken(channel.id, 3).encode(KEYRING)

    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    assert offer.text.splitlines()[1] == "Tier 3: lifetime for 99 USD."
    await bot.world.pay(await bot.world.checkout.execute(SUBSCRIBER, channel.id, 3))

    again = await bot.say(SUBSCRIBER, f"/start {OfferToken(channel.id, 1).encode(KEYRING)}")
    query = await bot.press(SUBSCRIBER, again, "Confirm")

    assert bot.alert(query) == (
        "You already have lifetime access to this channel: there is nothing to renew."
    )
    assert len(bot.world.gateway.requests) == 1
    status = await bot.say(SUBSCRIBER, "/status")
    assert "• Alpha Signals — tier 3, lifetime access" in status.text
    assert not any(label.startswith("Renew") for label in labels(status))


async def test_a_paid_trial_is_not_offered_to_someone_who_had_the_trial(
    bot: Bot, channel: Channel
) -> None:
    await bot.world.set_trial.execute(OWNER, channel.id, TrialOffer(7))
    await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")
    await bot.world.set_trial.execute(OWNER, channel.id, TrialOffer(3, usd(1)))

    answer = await bot.say(SUBSCRIBER, f"/start {trial_token(channel)}")

    assert answer.text.startswith("You have already had the trial of this channel")
    assert labels(answer) == []


async def test_channels_marks_an_ended_season_and_shows_the_trial(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/tiers 1 1=10USD/30d 2=20USD/until 2026-03-10 3=99USD/life")
    await bot.say(OWNER, "/trial 1 3d 1USD")
    bot.world.clock.advance(timedelta(days=10))

    answer = await bot.say(OWNER, "/channels")

    assert answer.text.splitlines()[3:6] == [
        "   tiers: 30 days — 10 USD; until 2026-03-10 — 20 USD (ended); lifetime — 99 USD",
        "   donations: 1 USD to 500 USD",
        "   trial: Trial: 3 days — 1 USD",
    ]
