"""The plan rules of the domain: lifetime and season tiers, fixed ends, trials."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, InvalidTier, InvalidToken, InvalidTransition
from core.domain.ids import ChannelId, ChatId, SubscriptionId, UserId
from core.domain.messages import (
    CheckoutWithBot,
    Offer,
    OfferedTier,
    notice_from_payload,
    notice_to_payload,
)
from core.domain.money import Money
from core.domain.offer_token import TRIAL, OfferToken
from core.domain.signing import MacKeyring
from core.domain.subscription import Subscription, SubscriptionStatus
from core.domain.tier import LIFETIME_END, Tier, TierKind, link_end, season_end
from core.domain.trial import TRIAL_TIER, TrialOffer, TrialRefusal, trial_refusal

NOW = datetime(2026, 1, 1, 15, 0, tzinfo=UTC)
MONTH = timedelta(days=30)
KEYRING = MacKeyring((b"test-mac-key-0123456789abcdef0123",))


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def sub(length: timedelta = MONTH) -> Subscription:
    return Subscription.start(SubscriptionId("s1"), UserId(1), ChannelId("c1"), 1, length, NOW)


def channel(*tiers: Tier) -> Channel:
    return Channel(
        ChannelId("c1"), UserId(7), ChatId(-100), ChatId(-200), "Alpha", NOW, tiers=tiers
    )


# ------------------------------------------------------------------ tiers
def test_a_lifetime_tier_has_no_days_and_ends_never() -> None:
    tier = Tier.lifetime(3, usd("99"))
    assert (tier.span, tier.duration_days, tier.ends_at) == (TierKind.LIFETIME, 0, LIFETIME_END)
    assert tier.on_sale_at(datetime(9000, 1, 1, tzinfo=UTC))


def test_a_season_ends_at_the_end_of_its_last_day_in_utc_for_everyone() -> None:
    tier = Tier.season(2, usd("20"), date(2027, 3, 31))
    assert tier.ends_at == datetime(2027, 4, 1, tzinfo=UTC) == season_end(date(2027, 3, 31))
    assert tier.on_sale_at(datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert not tier.on_sale_at(datetime(2027, 4, 1, tzinfo=UTC))


def test_a_days_tier_is_always_on_sale_and_has_no_fixed_end() -> None:
    tier = Tier(1, usd("10"), 30)
    assert tier.ends_at is None and tier.on_sale_at(datetime(9000, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "build",
    [
        lambda: Tier(1, usd("10"), 0),
        lambda: Tier(1, usd("10"), 30, None, TierKind.LIFETIME),
        lambda: Tier(1, usd("10"), 0, None, TierKind.UNTIL),
        lambda: Tier(1, usd("10"), 30, None, TierKind.DAYS, date(2027, 1, 1)),
        lambda: Tier.season(1, usd("10"), date(9999, 6, 1)),
    ],
)
def test_a_tier_keeps_days_and_end_date_consistent_with_its_span(build: object) -> None:
    with pytest.raises(InvalidTier):
        build()  # type: ignore[operator]


def test_the_offer_leaves_out_a_season_past_its_end() -> None:
    season = Tier.season(2, usd("20"), date(2026, 1, 31))
    c = channel(Tier(1, usd("10"), 30), season)
    assert c.tiers_on_sale(NOW) == c.tiers
    assert [t.number for t in c.tiers_on_sale(datetime(2026, 2, 1, tzinfo=UTC))] == [1]


def test_a_renew_button_offers_the_tier_held_or_else_the_first() -> None:
    c = channel(Tier(1, usd("10"), 30), Tier(2, usd("25"), 90))
    assert c.renewal_tier(2) == 2
    assert c.renewal_tier(TRIAL_TIER) == 1


def test_a_link_lasts_to_the_end_but_not_past_ten_years() -> None:
    assert link_end(NOW + MONTH, NOW) == NOW + MONTH
    assert link_end(LIFETIME_END, NOW) == NOW + timedelta(days=3660)


def test_an_offer_of_plan_tiers_survives_the_outbox() -> None:
    tiers = (Tier.season(2, usd("20"), date(2027, 3, 31)), Tier.lifetime(3, usd("99")))
    pay = CheckoutWithBot("paygate_bot", "t")
    offer = Offer("Alpha", tuple(OfferedTier(t, pay) for t in tiers), ChannelId("c1"))
    assert notice_from_payload(notice_to_payload(offer)) == offer


# ---------------------------------------------------------- subscriptions
def test_a_fixed_end_starts_a_subscription_that_ends_then() -> None:
    s = Subscription.start(
        SubscriptionId("s"), UserId(1), ChannelId("c"), 3, timedelta(0), NOW, LIFETIME_END
    )
    assert (s.starts_at, s.expires_at, s.is_lifetime) == (NOW, LIFETIME_END, True)


def test_buying_a_lifetime_while_subscribed_makes_the_subscription_lifetime() -> None:
    s = sub()
    assert not s.extend_to(LIFETIME_END, 3, NOW + timedelta(days=3))
    assert (s.expires_at, s.tier, s.period, s.is_lifetime) == (LIFETIME_END, 3, 1, True)


def test_a_season_never_shortens_a_longer_subscription() -> None:
    s = sub(timedelta(days=400))
    s.extend_to(season_end(date(2026, 3, 31)), 2, NOW)
    assert s.expires_at == NOW + timedelta(days=400)


def test_a_season_bought_after_a_lapse_starts_now_and_opens_a_new_period() -> None:
    s = sub()
    later = NOW + timedelta(days=40)
    s.expire(later)
    assert s.extend_to(season_end(date(2026, 3, 31)), 2, later)
    assert (s.status, s.starts_at, s.period) == (SubscriptionStatus.ACTIVE, later, 2)
    assert s.expires_at == datetime(2026, 4, 1, tzinfo=UTC)


def test_a_fixed_end_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        sub().extend_to(NOW, 2, NOW)


def test_a_lifetime_is_never_reminded_and_never_expires() -> None:
    s = sub()
    s.extend_to(LIFETIME_END, 3, NOW)
    far = datetime(9000, 1, 1, tzinfo=UTC)
    assert s.is_active_at(far) and not s.reminder_due(72, far)
    with pytest.raises(InvalidTransition):
        s.expire(far)


def test_extending_a_lifetime_by_days_changes_nothing() -> None:
    s = sub()
    s.extend_to(LIFETIME_END, 3, NOW)
    assert not s.extend(MONTH, 1, NOW)
    assert (s.expires_at, s.tier) == (LIFETIME_END, 3)


# ------------------------------------------------------------------ trials
def test_a_trial_lasts_one_to_ninety_days_and_costs_more_than_zero_if_paid() -> None:
    assert TrialOffer(7).is_free and not TrialOffer(3, usd("1")).is_free
    for days, price in ((0, None), (91, None), (3, usd("0"))):
        with pytest.raises(InvalidChannel):
            TrialOffer(days, price)
    with pytest.raises(InvalidChannel):
        TrialOffer(3, Money.of("1.005", "USD"))
    with pytest.raises(InvalidChannel):
        TrialOffer(3, Money.of("100", "XTR"))


@pytest.mark.parametrize(
    ("offered", "taken", "paid", "refusal"),
    [
        (True, False, False, None),
        (False, False, False, TrialRefusal.NOT_OFFERED),
        (True, True, False, TrialRefusal.ALREADY_TAKEN),
        (True, False, True, TrialRefusal.ALREADY_PAID),
        (True, True, True, TrialRefusal.ALREADY_PAID),
    ],
)
def test_a_trial_is_once_per_person_and_never_after_paying(
    offered: bool, taken: bool, paid: bool, refusal: TrialRefusal | None
) -> None:
    assert trial_refusal(offered, taken, paid) is refusal


def test_setting_a_trial_makes_the_posted_offer_stale() -> None:
    c = channel(Tier(1, usd("10"), 30))
    before = c.tiers_version
    c.set_trial(TrialOffer(7))
    assert c.trial == TrialOffer(7) and c.tiers_version == before + 1


def test_a_trial_button_token_round_trips_and_is_not_a_tier_or_a_donation() -> None:
    token = OfferToken(ChannelId("c1"), TRIAL)
    decoded = OfferToken.decode(token.encode(KEYRING), KEYRING)
    assert decoded.is_trial and not decoded.is_donation
    with pytest.raises(InvalidToken):
        OfferToken.decode(token.encode(KEYRING).replace("_9_", "_8_"), KEYRING)
