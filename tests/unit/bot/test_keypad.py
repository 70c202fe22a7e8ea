"""The donation keypad's preset amounts and buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.inbound.telegram.keypad import keypad_message, preset_amounts
from adapters.inbound.telegram.parsing import parse_other_amount, parse_preset
from core.domain.channel import DonationBounds
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.signing import MacKeyring

KEYRING = MacKeyring((b"keypad-unit-test-mac-key-01234567",))

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def bounds(low: str, high: str, currency: str = "USD") -> DonationBounds:
    return DonationBounds(Money.of(low, currency), Money.of(high, currency))


@pytest.mark.parametrize(
    ("low", "high", "count", "expected"),
    [
        ("1", "500", 6, ["1", "5", "10", "50", "100", "500"]),
        ("5", "20", 6, ["5", "10", "20"]),
        ("3", "7", 6, ["3", "5", "7"]),
        ("4", "4", 6, ["4"]),
        ("0.5", "2", 6, ["0.5", "1", "2"]),
        ("1", "500", 1, ["1"]),
        ("2.50", "1000", 4, ["5", "20", "200", "1000"]),
    ],
)
def test_presets_are_round_amounts_spread_within_the_bounds(
    low: str, high: str, count: int, expected: list[str]
) -> None:
    presets = preset_amounts(bounds(low, high), count)

    assert presets == [Decimal(e) for e in expected]
    assert all(Decimal(low) <= p <= Decimal(high) for p in presets)


def test_the_keypad_has_three_presets_a_row_then_other_amount_and_cancel() -> None:
    message = keypad_message("Alpha", ChannelId("c1"), bounds("1", "500"), WHEN, 6, KEYRING)

    rows = [[b.text for b in row] for row in message.buttons]
    assert rows == [
        ["1 USD", "5 USD", "10 USD"],
        ["50 USD", "100 USD", "500 USD"],
        ["Other amount", "Cancel"],
    ]
    five = message.buttons[0][1].callback_data
    other = message.buttons[2][0].callback_data
    assert five is not None and other is not None
    pressed = parse_preset(five)
    assert pressed.preset.index == 1
    assert pressed.preset.issued_at == WHEN
    assert pressed.shows(Money.of(5, "USD"), KEYRING)
    assert not pressed.shows(Money.of(10, "USD"), KEYRING)
    assert parse_other_amount(other, KEYRING).channel_id == "c1"
    assert message.buttons[2][1].callback_data == "dx"
