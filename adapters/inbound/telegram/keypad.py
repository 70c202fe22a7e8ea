"""The donation keypad: preset amounts within the channel's bounds, plus "other
amount" and "cancel".

Its buttons carry the channel and the time the keypad was shown, so a press needs no
memory of the conversation (any process can serve it) and an old keypad can be
refused after its time is up. Each is signed like every button that names something
of ours (a preset together with the amount its label shows), so a press with made-up
data (another amount, channel or time) is refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.catalog import texts
from adapters.catalog.buttons import CANCEL_DONATION
from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.words import money_text
from adapters.inbound.telegram.parsing import (
    OtherAmount,
    Preset,
    other_amount_data,
    preset_data,
)
from core.domain.channel import DonationBounds
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.signing import MacKeyring

PER_ROW = 3


def _ladder(low: Decimal, high: Decimal) -> list[Decimal]:
    """1-2-5 steps (0.01, 0.02, 0.05, 0.1 … 1, 2, 5, 10 …) between ``low`` and ``high``."""
    steps: list[Decimal] = []
    for exponent in range(-2, 10):
        for mantissa in (1, 2, 5):
            value = Decimal(mantissa).scaleb(exponent)
            if low <= value <= high:
                steps.append(value)
    return steps


def preset_amounts(bounds: DonationBounds, count: int) -> list[Decimal]:
    """Up to ``count`` round amounts spread across the bounds, smallest first; the
    bounds themselves when too few round amounts fall between them."""
    low, high = bounds.minimum.amount, bounds.maximum.amount
    ladder = _ladder(low, high)
    if len(ladder) < 3:
        ladder = sorted({low, *ladder, high})
    if len(ladder) <= count:
        return ladder
    if count == 1:
        return [ladder[0]]
    last = len(ladder) - 1
    span = count - 1
    picks = sorted({(i * last + span // 2) // span for i in range(count)})
    return [ladder[i] for i in picks]


def keypad_message(
    title: str,
    channel_id: ChannelId,
    bounds: DonationBounds,
    issued_at: datetime,
    count: int,
    keyring: MacKeyring,
) -> OutgoingMessage:
    currency = bounds.minimum.currency
    presets = [
        Button(
            money_text(Money(amount, currency)),
            callback_data=preset_data(
                Preset(channel_id, index, issued_at), Money(amount, currency), keyring
            ),
        )
        for index, amount in enumerate(preset_amounts(bounds, count))
    ]
    rows = [tuple(presets[i : i + PER_ROW]) for i in range(0, len(presets), PER_ROW)]
    rows.append(
        (
            Button(
                texts.keypad_other_amount(),
                callback_data=other_amount_data(OtherAmount(channel_id, issued_at), keyring),
            ),
            Button(texts.keypad_cancel(), callback_data=CANCEL_DONATION),
        )
    )
    return OutgoingMessage(texts.keypad(title, bounds), tuple(rows))
