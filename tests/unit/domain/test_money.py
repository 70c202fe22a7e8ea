from decimal import Decimal

import pytest

from core.domain.errors import InvalidMoney
from core.domain.money import Money


def test_amounts_keep_their_exact_decimal_value() -> None:
    assert Money.of("10.10", "usd").amount == Decimal("10.10")


def test_currency_codes_are_upper_cased() -> None:
    assert Money.of(1, "usdttrc20").currency == "USDTTRC20"


def test_floats_are_refused() -> None:
    with pytest.raises(InvalidMoney, match="amount_float"):
        Money(0.1, "USD")


def test_booleans_are_refused() -> None:
    with pytest.raises(InvalidMoney):
        Money(True, "USD")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "ten", ""])
def test_non_finite_or_garbage_amounts_are_refused(amount: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.of(amount, "USD")


@pytest.mark.parametrize("code", ["U", "US D", "€", "A" * 13, ""])
def test_malformed_currency_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.of(1, code)


def test_arithmetic_across_currencies_is_refused() -> None:
    with pytest.raises(InvalidMoney, match=r"currencies_mixed\(first=USD, second=EUR\)"):
        _ = Money.of(1, "USD") + Money.of(1, "EUR")


def test_comparison_and_sums_within_one_currency() -> None:
    total = Money.of("0.10", "USD") + Money.of("0.20", "USD")
    assert total == Money.of("0.30", "USD")
    assert Money.of(1, "USD") < Money.of("1.01", "USD")


def test_same_value_ignores_scale() -> None:
    assert Money.of("10", "USD").same_value(Money.of("10.00", "usd"))
    assert not Money.of("10", "USD").same_value(Money.of("10", "EUR"))


def test_decimal_places_counts_significant_decimals() -> None:
    assert Money.of("12.50", "USD").decimal_places() == 1
    assert Money.of("12.345", "USD").decimal_places() == 3
    assert Money.of("1200", "USD").decimal_places() == 0


def test_str_shows_amount_and_currency_without_exponent() -> None:
    assert str(Money.of(Decimal("1E+2"), "USD")) == "100 USD"
