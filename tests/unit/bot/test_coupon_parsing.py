"""Reading ``/coupon new …`` (issue 21): every form the help shows, and anything
else refused with a sentence, never a crash."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.catalog import coupon_texts
from adapters.catalog.language import speaking
from adapters.inbound.telegram.coupons import parse_coupon_command, parse_discount
from adapters.inbound.telegram.parsing import BadInput
from core.domain.coupon import CouponRefused, Discount
from core.domain.errors import DomainError
from core.domain.money import Money


def test_every_form_of_the_help_is_read() -> None:
    command = parse_coupon_command(
        ["SPRING", "20%", "channel", "#1", "tier", "2", "uses", "100", "until", "2027-06-30"]
    )
    assert command.tier == 2
    assert (command.code, command.discount, command.channel, command.uses) == (
        "SPRING",
        Discount.off_percent(20),
        "1",
        100,
    )
    assert command.until == datetime(2027, 7, 1, tzinfo=UTC)
    made_up = parse_coupon_command(["7d", "channel", "2"])
    assert (made_up.code, made_up.discount, made_up.channel) == (None, Discount.free_days(7), "2")
    every = parse_coupon_command(["SAVE", "5.50usd", "all"])
    assert every.discount == Discount.off_amount(Money.of("5.50", "USD"))
    assert every.channel is None


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["SPRING"],
        ["SPRING", "20%", "uses"],
        ["SPRING", "20%", "uses", "many"],
        ["SPRING", "20%", "until", "30.06.2027"],
        ["SPRING", "20%", "until", "2027-02-30"],
        ["SPRING", "20%", "uses", "1", "uses", "2"],
        ["SPRING", "20%", "colour", "red"],
    ],
)
def test_anything_else_is_refused_with_a_sentence(words: list[str]) -> None:
    with speaking("en"):
        with pytest.raises(BadInput) as refused:
            parse_coupon_command(words)
        assert str(refused.value) in (coupon_texts.usage(), coupon_texts.bad_date())


def test_out_of_bounds_discounts_are_the_domains_to_refuse() -> None:
    with pytest.raises(CouponRefused):
        parse_discount("100%")
    assert parse_discount("7days") == Discount.free_days(7)
    assert parse_discount("SPRING") is None


@given(st.lists(st.text(max_size=12), max_size=8))
def test_no_words_crash_the_parser(words: list[str]) -> None:
    # A command, or a refusal the bot says as a sentence: nothing else escapes.
    with contextlib.suppress(DomainError):
        parse_coupon_command(words)
