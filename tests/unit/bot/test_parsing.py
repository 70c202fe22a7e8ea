"""Reading what owners and subscribers type, and what the bot's buttons carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.catalog.buttons import confirm_data, renew_data, resend_data
from adapters.catalog.message import MAX_CALLBACK_BYTES
from adapters.inbound.telegram.parsing import (
    DONATION_START,
    BadInput,
    OtherAmount,
    Preset,
    channel_from_resend,
    other_amount_data,
    parse_amount,
    parse_bounds,
    parse_channel_number,
    parse_chat_ref,
    parse_other_amount,
    parse_preset,
    parse_tiers,
    preset_data,
    token_from,
)
from core.domain.channel import DonationBounds
from core.domain.errors import InvalidChannel, InvalidTier
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from core.domain.signing import MacKeyring
from core.domain.tier import Tier

KEYRING = MacKeyring((b"unit-test-mac-key-0123456789abcdef",))
OTHER_KEYRING = MacKeyring((b"another-unit-test-mac-key-0123456",))
LONGEST_ID = ChannelId("f" * 32)
WHEN = datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


# ------------------------------------------------------------------ amounts
@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12.50", "12.50"),
        ("12,50", "12.50"),
        ("12", "12"),
        (" 7.5 ", "7.5"),
        ("12.50 USD", "12.50"),
        ("12.50usd", "12.50"),
        ("USD 3", "3"),
        ("0", "0"),
    ],
)
def test_amounts_are_read_with_a_point_or_a_comma(typed: str, amount: str) -> None:
    assert parse_amount(typed, "USD") == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "send just the amount, such as 12.50 or 12,50"),
        ("-5", "send just the amount, such as 12.50 or 12,50"),
        ("1,000.50", "send just the amount, such as 12.50 or 12,50"),
        ("12.50 EUR", "send just the amount, such as 12.50 or 12,50"),
        ("1e3", "send just the amount, such as 12.50 or 12,50"),
        ("", "send just the amount, such as 12.50 or 12,50"),
        ("12.505", "use at most two decimals, such as 12.50"),
        ("12,500", "use at most two decimals, such as 12.50"),
    ],
)
def test_what_is_not_an_amount_is_refused_with_a_hint(typed: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_amount(typed, "USD")


# -------------------------------------------------------------------- tiers
def test_tiers_are_read_from_number_price_currency_and_days() -> None:
    tiers = parse_tiers(["2=25USD/90d", "1=10.50usd/30", "3=99,99USD/365days"])

    assert tiers == (
        Tier(1, usd("10.50"), 30),
        Tier(2, usd("25"), 90),
        Tier(3, usd("99.99"), 365),
    )


def test_a_tier_may_carry_a_stars_price_beside_its_crypto_price() -> None:
    tiers = parse_tiers(["1=10USD+500XTR/30d", "2=25USD+1200stars/90d", "3=99USD/365d"])

    assert [t.stars_price for t in tiers] == [Money.of(500, "XTR"), Money.of(1200, "XTR"), None]
    assert [t.price for t in tiers] == [usd("10"), usd("25"), usd("99")]


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("1=10USD+0XTR/30d", "stars_whole"),
        ("1=10USD+10001XTR/30d", "stars_whole"),
        ("1=500XTR/30d", "tier_main_price_stars"),
    ],
)
def test_a_stars_price_keeps_the_domain_rules(word: str, message: str) -> None:
    with pytest.raises(InvalidTier, match=message):
        parse_tiers([word])


@pytest.mark.parametrize("word", ["none", "off", "NONE"])
def test_none_means_no_tiers(word: str) -> None:
    assert parse_tiers([word]) == ()


@pytest.mark.parametrize(
    "word", ["1=10/30d", "1=USD10/30d", "one=10USD/30d", "1:10USD/30d", "1=10USD"]
)
def test_a_tier_that_cannot_be_read_says_how_to_write_it(word: str) -> None:
    with pytest.raises(BadInput, match="such as 1=10USD/30d 2=25USD/90d"):
        parse_tiers([word])


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["4=10USD/30d"], r"tier_number\(most=3, given=4\)"),
        (["1=10USD/0d"], r"tier_days_range\(most=3660"),
        (["1=0USD/30d"], "tier_price_zero"),
        (["1=10.555USD/30d"], r"tier_price_decimals\(most=2\)"),
        (["1=10USD/30d", "1=20USD/60d"], "tier_numbers_twice"),
        (["1=10USD/30d", "2=20EUR/60d"], "tiers_currencies"),
    ],
)
def test_the_domain_rules_of_tiers_apply(words: list[str], message: str) -> None:
    with pytest.raises(InvalidTier, match=message):
        parse_tiers(words)


def test_no_tiers_at_all_is_not_silently_none() -> None:
    with pytest.raises(BadInput, match="write the tiers after the channel number"):
        parse_tiers([])


# --------------------------------------------------------- donation bounds
@pytest.mark.parametrize("text", ["1USD-500USD", "1-500 USD", "1 usd - 500 usd", "1,00-500USD"])
def test_donation_bounds_are_read_in_several_spellings(text: str) -> None:
    assert parse_bounds(text) == DonationBounds(usd("1"), usd("500"))


def test_off_turns_donations_off() -> None:
    assert parse_bounds("off") is None


def test_bounds_in_two_currencies_are_refused() -> None:
    with pytest.raises(BadInput, match="same currency"):
        parse_bounds("1EUR-500USD")


@pytest.mark.parametrize("text", ["500", "USD1-USD5", "1-", "-5USD", "1-5 U"])
def test_unreadable_bounds_say_how_to_write_them(text: str) -> None:
    with pytest.raises(BadInput, match="such as 1USD-500USD"):
        parse_bounds(text)


def test_bounds_upside_down_break_the_domain_rule() -> None:
    with pytest.raises(InvalidChannel, match="bounds_inverted"):
        parse_bounds("500USD-1USD")


# -------------------------------------------------------------------- chats
@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("-1001234567890", -1001234567890),
        ("@alpha_signals", "@alpha_signals"),
        ("https://t.me/alpha_signals", "@alpha_signals"),
        ("t.me/alpha_signals/", "@alpha_signals"),
    ],
)
def test_chat_references_are_ids_or_public_names(text: str, ref: int | str) -> None:
    assert parse_chat_ref(text) == ref


@pytest.mark.parametrize("text", ["alpha", "@ab", "1001234", "https://t.me/+abcdef", "@a b"])
def test_anything_else_is_not_a_chat_reference(text: str) -> None:
    with pytest.raises(BadInput, match="@username"):
        parse_chat_ref(text)


def test_channel_numbers_count_from_one_among_the_owners_channels() -> None:
    assert parse_channel_number("1", 2) == 0
    assert parse_channel_number("#2", 2) == 1
    with pytest.raises(BadInput, match="you have no channel 3"):
        parse_channel_number("3", 2)
    with pytest.raises(BadInput, match="channel's number"):
        parse_channel_number("alpha", 2)


# ------------------------------------------------------------ callback data
def test_confirm_and_renew_carry_the_signed_token_within_64_bytes() -> None:
    token = OfferToken(LONGEST_ID, 3).encode(KEYRING)

    for data, prefix in ((confirm_data(token), "c:"), (renew_data(token), "o:")):
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert token_from(data, prefix) == token


def test_a_button_without_its_token_no_longer_works() -> None:
    with pytest.raises(BadInput, match="no longer works"):
        token_from("c:", "c:")


def test_resend_carries_the_channel() -> None:
    assert channel_from_resend(resend_data(LONGEST_ID)) == LONGEST_ID
    with pytest.raises(BadInput):
        channel_from_resend("a:not/an/id")


def test_a_preset_round_trips_within_64_bytes_for_the_longest_ids_and_amounts() -> None:
    preset = Preset(LONGEST_ID, 11, WHEN)
    price = usd("999999999.99")

    data = preset_data(preset, price, KEYRING)

    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    pressed = parse_preset(data)
    assert pressed.preset == preset
    assert pressed.shows(price, KEYRING)


def test_a_preset_is_signed_for_the_amount_its_label_shows() -> None:
    pressed = parse_preset(preset_data(Preset(LONGEST_ID, 1, WHEN), usd("5"), KEYRING))

    assert not pressed.shows(usd("50"), KEYRING)
    assert not pressed.shows(Money.of(5, "EUR"), KEYRING)
    assert not pressed.shows(usd("5"), OTHER_KEYRING)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: Preset(ChannelId("e" * 32), p.index, p.issued_at),
        lambda p: Preset(p.channel_id, p.index + 1, p.issued_at),
        lambda p: Preset(p.channel_id, p.index, p.issued_at + timedelta(minutes=10)),
    ],
    ids=["channel", "place", "time"],
)
def test_a_preset_with_any_field_changed_does_not_verify(
    change: Callable[[Preset], Preset],
) -> None:
    genuine = preset_data(Preset(LONGEST_ID, 1, WHEN), usd("5"), KEYRING)
    tag = genuine.rsplit(":", 1)[1]
    # The forged fields, carrying the genuine button's tag.
    data = preset_data(change(Preset(LONGEST_ID, 1, WHEN)), usd("5"), KEYRING)
    forged = data.rsplit(":", 1)[0] + ":" + tag

    assert forged != genuine
    assert not parse_preset(forged).shows(usd("5"), KEYRING)


def test_presets_signed_with_the_previous_key_still_verify_during_a_rotation() -> None:
    data = preset_data(Preset(LONGEST_ID, 1, WHEN), usd("5"), OTHER_KEYRING)
    rotated = MacKeyring((KEYRING.keys[0], OTHER_KEYRING.keys[0]))

    assert parse_preset(data).shows(usd("5"), rotated)


def test_other_amount_round_trips_and_is_signed() -> None:
    other = OtherAmount(LONGEST_ID, WHEN)
    data = other_amount_data(other, KEYRING)

    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert parse_other_amount(data, KEYRING) == other
    with pytest.raises(BadInput, match="out of date or not one of mine"):
        parse_other_amount(data, OTHER_KEYRING)


def test_other_amount_with_a_later_time_is_refused() -> None:
    data = other_amount_data(OtherAmount(LONGEST_ID, WHEN), KEYRING)
    prefix, channel, _, tag = data.split(":")
    later = other_amount_data(OtherAmount(LONGEST_ID, WHEN + timedelta(hours=1)), KEYRING)
    forged = ":".join([prefix, channel, later.split(":")[2], tag])

    with pytest.raises(BadInput, match="out of date or not one of mine"):
        parse_other_amount(forged, KEYRING)


@pytest.mark.parametrize(
    "data",
    [
        "d:",
        "d:abc",
        "d:abc:5",
        "d:abc:5:zz",
        "d:abc:1:zz:short",
        "d:abc:-1:zz:" + "A" * 16,
        "d:abc:123:zz:" + "A" * 16,
        "d:ab/c:1:zz:" + "A" * 16,
        "d:abc:1:!!:" + "A" * 16,
        "d:abc:1:zz:" + "!" * 16,
    ],
)
def test_forged_or_broken_preset_data_is_refused(data: str) -> None:
    with pytest.raises(BadInput, match="no longer works"):
        parse_preset(data)


def test_the_donation_start_pattern_matches_only_donate_tokens() -> None:
    donate = OfferToken(LONGEST_ID, DONATION).encode(KEYRING)
    tier = OfferToken(LONGEST_ID, 1).encode(KEYRING)

    assert DONATION_START.match(f"/start {donate}")
    assert DONATION_START.match(f"/start@paygate_bot {donate}")
    assert not DONATION_START.match(f"/start {tier}")
    assert not DONATION_START.match("/start")
