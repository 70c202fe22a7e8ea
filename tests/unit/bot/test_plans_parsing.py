"""How owners write plans: ``/tiers`` with a lifetime or a season, and ``/trial``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.inbound.telegram.parsing import BadInput, parse_tiers, parse_trial
from core.domain.errors import InvalidChannel
from core.domain.money import Money
from core.domain.tier import STARS, Tier
from core.domain.trial import TrialOffer


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_a_lifetime_tier_is_written_life_lifetime_or_forever() -> None:
    for word in ("life", "lifetime", "FOREVER"):
        assert parse_tiers([f"3=99USD/{word}"]) == (Tier.lifetime(3, usd("99")),)


def test_a_season_is_written_until_a_date_with_or_without_a_space() -> None:
    season = Tier.season(2, usd("20"), date(2027, 3, 31))
    assert parse_tiers(["2=20USD/until", "2027-03-31"]) == (season,)
    assert parse_tiers(["2=20USD/until:2027-03-31"]) == (season,)
    assert parse_tiers(["2=20USD/until2027-03-31"]) == (season,)


def test_days_seasons_and_lifetimes_mix_and_keep_their_stars_prices() -> None:
    tiers = parse_tiers(["1=10USD/30d", "2=20USD+900XTR/until", "2027-03-31", "3=99USD/life"])
    assert tiers == (
        Tier(1, usd("10"), 30),
        Tier.season(2, usd("20"), date(2027, 3, 31), Money(Decimal(900), STARS)),
        Tier.lifetime(3, usd("99")),
    )


@pytest.mark.parametrize(
    "words",
    [["2=20USD/until"], ["2=20USD/until", "31.03.2027"], ["2=20USD/until", "2027-02-30"]],
)
def test_a_season_without_a_real_date_is_not_read(words: list[str]) -> None:
    with pytest.raises(BadInput):
        parse_tiers(words)


@pytest.mark.parametrize(
    ("words", "trial"),
    [
        (["7d"], TrialOffer(7)),
        (["7"], TrialOffer(7)),
        (["14days"], TrialOffer(14)),
        (["3d", "1USD"], TrialOffer(3, usd("1"))),
        (["3d", "1.50", "usd"], TrialOffer(3, Money(Decimal("1.50"), "usd"))),
        (["3d", "1,5EUR"], TrialOffer(3, Money(Decimal("1.5"), "EUR"))),
        (["off"], None),
        (["none"], None),
    ],
)
def test_a_trial_is_days_then_an_optional_price_or_off(
    words: list[str], trial: TrialOffer | None
) -> None:
    assert parse_trial(words) == trial


@pytest.mark.parametrize("words", [[], ["soon"], ["7d", "free"], ["7d", "1", "USD", "now"]])
def test_a_trial_that_cannot_be_read_is_refused_with_the_usage(words: list[str]) -> None:
    with pytest.raises(BadInput):
        parse_trial(words)


def test_a_trial_beyond_ninety_days_breaks_the_rule() -> None:
    with pytest.raises(InvalidChannel):
        parse_trial(["120d"])
