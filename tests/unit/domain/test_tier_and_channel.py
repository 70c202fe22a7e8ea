from datetime import UTC, datetime, timedelta

import pytest

from core.domain.channel import Channel, DonationBounds, PayoutWallet
from core.domain.errors import InvalidChannel, InvalidTier, NotAuthorized
from core.domain.ids import ChannelId, ChatId, MessageId, UserId
from core.domain.money import Money
from core.domain.tier import Rail, Tier

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def channel(**kw: object) -> Channel:
    args: dict[str, object] = {
        "id": ChannelId("c1"),
        "owner_id": UserId(7),
        "open_chat_id": ChatId(-100),
        "closed_chat_id": ChatId(-200),
        "title": "Alpha",
        "created_at": NOW,
    }
    args.update(kw)
    return Channel(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("number", [0, 4, -1])
def test_tier_numbers_run_from_one_to_three(number: int) -> None:
    with pytest.raises(InvalidTier, match="most=3"):
        Tier(number, usd("5"), 30)


def test_tier_price_must_be_positive_with_two_decimals_at_most() -> None:
    with pytest.raises(InvalidTier, match="tier_price_zero"):
        Tier(1, usd("0"), 30)
    with pytest.raises(InvalidTier, match=r"tier_price_decimals\(most=2\)"):
        Tier(1, usd("1.001"), 30)


def test_tier_duration_is_whole_positive_days() -> None:
    with pytest.raises(InvalidTier):
        Tier(1, usd("5"), 0)
    assert Tier(1, usd("5"), 30).period == timedelta(days=30)


def test_channel_keeps_tiers_sorted_and_unique() -> None:
    c = channel(tiers=(Tier(2, usd("9"), 90), Tier(1, usd("4"), 30)))
    assert [t.number for t in c.tiers] == [1, 2]
    with pytest.raises(InvalidTier, match="tier_numbers_twice"):
        c.set_tiers((Tier(1, usd("4"), 30), Tier(1, usd("5"), 60)))


def test_channel_tiers_share_one_currency() -> None:
    with pytest.raises(InvalidTier, match="tiers_currencies"):
        channel(tiers=(Tier(1, usd("4"), 30), Tier(2, Money.of(5, "EUR"), 60)))


def test_setting_tiers_bumps_the_version_so_the_posted_offer_is_stale() -> None:
    c = channel()
    c.set_tiers((Tier(1, usd("4"), 30),))
    assert c.tiers_version == 1


def test_open_and_closed_chats_must_differ() -> None:
    with pytest.raises(InvalidChannel, match="same_chats"):
        channel(closed_chat_id=ChatId(-100))


def test_only_the_owner_may_change_a_channel() -> None:
    with pytest.raises(NotAuthorized):
        channel().ensure_owner(UserId(8))


def test_unknown_tier_is_a_clear_error() -> None:
    with pytest.raises(InvalidTier, match=r"no_such_tier\(number=3\)"):
        channel(tiers=(Tier(1, usd("4"), 30),)).tier(3)


def test_donation_bounds_must_be_ordered_and_in_one_currency() -> None:
    with pytest.raises(InvalidChannel, match="bounds_inverted"):
        DonationBounds(usd("10"), usd("5"))
    with pytest.raises(InvalidChannel, match="bounds_currencies"):
        DonationBounds(usd("1"), Money.of(5, "EUR"))


def test_payout_wallet_is_masked_in_its_repr() -> None:
    wallet = PayoutWallet("TXYZsecretaddress123", "USDTTRC20")
    assert "secretaddress" not in repr(wallet)


def sales(c: Channel) -> tuple[bool, str | None]:
    return c.is_selling, c.pause_reason


def test_pausing_stops_selling_and_resuming_restores_it() -> None:
    c = channel(tiers=(Tier(1, usd("4"), 30),))
    c.pause_sales("bot lost its rights")
    assert sales(c) == (False, "bot lost its rights")
    c.resume_sales()
    assert sales(c) == (True, None)


def test_recorded_offer_post_remembers_the_tiers_version() -> None:
    c = channel(tiers=(Tier(1, usd("4"), 30),))
    c.set_tiers((Tier(1, usd("5"), 30),))
    c.record_offer_post(MessageId(55), NOW)
    assert c.offer_post is not None and c.offer_post.tiers_version == 1


def test_a_tier_without_a_stars_price_is_sold_for_crypto_only() -> None:
    tier = Tier(1, Money.of("10", "USD"), 30)

    assert tier.rails == (Rail.CRYPTO,)
    with pytest.raises(InvalidTier):
        tier.price_on(Rail.STARS)


def test_a_tier_with_a_stars_price_is_sold_both_ways_at_its_own_price_on_each() -> None:
    tier = Tier(1, Money.of("10", "USD"), 30, Money.of(250, "XTR"))

    assert tier.rails == (Rail.CRYPTO, Rail.STARS)
    assert tier.price_on(Rail.CRYPTO) == Money.of("10", "USD")
    assert tier.price_on(Rail.STARS) == Money.of(250, "XTR")


@pytest.mark.parametrize(
    "stars",
    [Money.of(0, "XTR"), Money.of("2.5", "XTR"), Money.of(10_001, "XTR"), Money.of(5, "USD")],
)
def test_a_stars_price_is_a_whole_number_of_stars_within_telegrams_cap(stars: Money) -> None:
    with pytest.raises(InvalidTier):
        Tier(1, Money.of("10", "USD"), 30, stars)


def test_the_crypto_price_cannot_be_given_in_stars() -> None:
    with pytest.raises(InvalidTier):
        Tier(1, Money.of(250, "XTR"), 30)
