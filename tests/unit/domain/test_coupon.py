"""The coupon rules (issue 21): codes, discounts, the floor, scope and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.coupon import (
    Coupon,
    CouponId,
    CouponRefused,
    Discount,
    generated_code,
    normalize_code,
)
from core.domain.errors import Why
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.tier import STARS

NOW = datetime(2026, 12, 8, tzinfo=UTC)
OWNER = UserId(7)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def _coupon(discount: Discount | None = None, **kw: object) -> Coupon:
    return Coupon(
        id=CouponId("c1"),
        code=str(kw.pop("code", "SPRING-20")),
        owner_id=OWNER,
        discount=discount or Discount.off_percent(20),
        created_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


def _refused(why: Why) -> pytest.RaisesExc[CouponRefused]:
    return pytest.raises(CouponRefused, check=lambda e: e.why is why)


def test_a_code_is_read_in_capitals() -> None:
    assert normalize_code("  spring-20 ") == "SPRING-20"
    assert _coupon(code="vip7").code == "VIP7"


@pytest.mark.parametrize("text", ["abc", "x" * 33, "SPRING_20", "SPRING 20", "ÜBER-20", ""])
def test_a_code_outside_the_alphabet_or_length_is_refused(text: str) -> None:
    with _refused(Why.COUPON_BAD_CODE):
        normalize_code(text)


def test_generated_codes_are_valid_and_differ_by_id() -> None:
    first, second = generated_code("a1b2c3"), generated_code("a1b2c4")
    assert normalize_code(first) == first and len(first) == 10
    assert first != second
    assert not set(first) & set("01OI")


@pytest.mark.parametrize(
    ("percent", "price", "paid"),
    [(20, "10", "8.00"), (15, "9.99", "8.49"), (99, "10", "1"), (50, "1.50", "1")],
)
def test_a_percentage_lowers_the_price_to_cents_never_below_the_floor(
    percent: int, price: str, paid: str
) -> None:
    assert Discount.off_percent(percent).price_of(usd(price)).same_value(usd(paid))


def test_an_amount_off_lowers_the_price_never_below_the_floor() -> None:
    off = Discount.off_amount(usd("5"))
    assert off.price_of(usd("12.50")).same_value(usd("7.50"))
    assert off.price_of(usd("5.50")).same_value(usd("1"))


def test_a_price_under_the_floor_is_not_raised_by_a_discount() -> None:
    assert Discount.off_percent(50).price_of(usd("0.50")).same_value(usd("0.50"))


def test_an_amount_off_in_another_currency_lowers_nothing() -> None:
    assert Discount.off_amount(usd("5")).price_of(Money.of(20, "EUR")) == Money.of(20, "EUR")
    assert Discount.off_amount(usd("5")).price_of(Money.of(500, STARS)) == Money.of(500, STARS)


def test_a_percentage_lowers_a_stars_price_to_whole_stars() -> None:
    assert Discount.off_percent(15).price_of(Money.of(99, STARS)) == Money.of(84, STARS)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Discount.off_percent(0),
        lambda: Discount.off_percent(100),
        lambda: Discount.off_amount(usd("0")),
        lambda: Discount.off_amount(usd("0.001")),
        lambda: Discount.off_amount(Money.of(5, STARS)),
        lambda: Discount.free_days(0),
        lambda: Discount.free_days(4000),
    ],
)
def test_a_discount_out_of_bounds_is_refused(make: object) -> None:
    assert callable(make)
    with _refused(Why.COUPON_BAD_DISCOUNT):
        make()


def test_free_days_are_granted_not_priced() -> None:
    with pytest.raises(ValueError, match="granted"):
        Discount.free_days(7).price_of(usd("10"))


def test_free_days_are_for_one_channel() -> None:
    with _refused(Why.COUPON_FREE_DAYS_NEED_A_CHANNEL):
        _coupon(Discount.free_days(7))
    assert _coupon(Discount.free_days(7), channel_id=ChannelId("ch")).discount.days == 7


def test_an_expiry_in_the_past_is_refused() -> None:
    with _refused(Why.COUPON_EXPIRED):
        _coupon(expires_at=NOW - timedelta(days=1))


def test_a_coupon_for_one_tier_covers_that_tier_only() -> None:
    second = _coupon(tier=2)
    assert second.covers(ChannelId("a"), OWNER, 2) and not second.covers(ChannelId("a"), OWNER, 1)
    with _refused(Why.COUPON_BAD_DISCOUNT):
        _coupon(tier=4)


def test_a_coupon_covers_its_channel_or_all_of_its_owners() -> None:
    one = _coupon(channel_id=ChannelId("a"))
    every = _coupon()
    assert one.covers(ChannelId("a"), OWNER) and not one.covers(ChannelId("b"), OWNER)
    assert every.covers(ChannelId("b"), OWNER)
    assert not every.covers(ChannelId("b"), UserId(8))


def test_redeemable_until_used_up_expired_or_switched_off() -> None:
    coupon = _coupon(max_uses=2, expires_at=NOW + timedelta(days=1))
    coupon.check_redeemable(NOW)
    coupon.used = 2
    assert coupon.uses_left == 0
    with _refused(Why.COUPON_USED_UP):
        coupon.check_redeemable(NOW)
    coupon.used = 1
    with _refused(Why.COUPON_EXPIRED):
        coupon.check_redeemable(NOW + timedelta(days=1))
    coupon.active = False
    with _refused(Why.COUPON_UNKNOWN):
        coupon.check_redeemable(NOW)


def test_a_coupon_discounts_while_on_and_unexpired() -> None:
    coupon = _coupon(expires_at=NOW + timedelta(days=1))
    assert coupon.discounts_at(NOW)
    assert not coupon.discounts_at(NOW + timedelta(days=1))
    assert not _coupon(Discount.free_days(3), channel_id=ChannelId("a")).discounts_at(NOW)
