"""The people and channels the demo's journey starts from, as they exist in Telegram
before PayGate starts."""

from __future__ import annotations

from composition.demo.transcript import Transcript
from sandbox.telegram.server import TelegramEmulator

OWNER = 1001
SUBSCRIBER = 2001
STRANGER = 2002
DONOR = 2003
REFUNDED = 2004
STARS_BUYER = 2005
OPEN_CHAT = -1001000000001
CLOSED_CHAT = -1001000000002
TIERS = "1=10USD/30d 2=25USD+1200XTR/90d"
"""Tier 2 sells for crypto or for 1200 Telegram Stars."""


def set_up_world(telegram: TelegramEmulator, say: Transcript) -> None:
    """The people and channels of the journey, as they exist before PayGate starts:
    an owner who made two channels with the bot as admin, a subscriber, a stranger
    and a donor whose Telegram app speaks Spanish (she reads the bot in Spanish)."""
    telegram.add_user(OWNER, "Olivia", username="olivia")
    telegram.add_user(SUBSCRIBER, "Sam", username="sam")
    telegram.add_user(STRANGER, "Eve", username="eve")
    telegram.add_user(DONOR, "Dana", username="dana", language_code="es")
    telegram.add_user(REFUNDED, "Rob", username="rob")
    telegram.add_user(STARS_BUYER, "Stella", username="stella")
    telegram.add_chat(
        OPEN_CHAT, "channel", "Alpha Signals", username="alpha_signals", creator_id=OWNER
    )
    telegram.add_chat(CLOSED_CHAT, "channel", "Alpha Signals VIP", creator_id=OWNER)
    say.say(
        "setup",
        "Telegram emulator: owner @olivia made two channels and the bot an admin of both",
    )
