"""What buttons carry: callback data (a prefix naming what the press does) and deep
links into the bot's private chat. The bot's parsing reads the same prefixes back."""

from __future__ import annotations

from adapters.catalog.message import MAX_CALLBACK_BYTES
from core.domain.ids import ChannelId

CONFIRM_PREFIX = "c:"
STARS_PREFIX = "s:"
"""``s:<offer token>``: confirm the offer, to pay in Telegram Stars."""
RENEW_PREFIX = "o:"
"""``o:<offer token>``: starts the same checkout as the offer's deep link (Renew and
Subscribe again)."""
RESEND_PREFIX = "a:"
PRESET_PREFIX = "d:"
OTHER_AMOUNT_PREFIX = "dt:"
CANCEL_DONATION = "dx"
APPROVE_SELLER_PREFIX = "sa:"
DECLINE_SELLER_PREFIX = "sd:"
"""``sa:<user id>`` / ``sd:<user id>``: an operator approves or declines a request to sell."""


def fits(data: str) -> str:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data[:16]}…")
    return data


def confirm_data(token: str) -> str:
    return fits(CONFIRM_PREFIX + token)


def stars_data(token: str) -> str:
    return fits(STARS_PREFIX + token)


def renew_data(token: str) -> str:
    return fits(RENEW_PREFIX + token)


def resend_data(channel_id: ChannelId) -> str:
    return fits(RESEND_PREFIX + channel_id)


def decide_seller_data(user_id: int, approve: bool) -> str:
    return fits(f"{APPROVE_SELLER_PREFIX if approve else DECLINE_SELLER_PREFIX}{user_id}")


def deep_link(bot_username: str, token: str) -> str:
    """Opens a private chat with the bot, which reads ``/start <token>``."""
    return f"https://t.me/{bot_username}?start={token}"


COUPON_START = "c-"
"""``/start c-<CODE>``: a coupon's deep link. Codes have no ``_``, offer tokens always
two, so the one is never read as the other; 2 + 32 characters fit Telegram's 64."""


def coupon_link(bot_username: str, code: str) -> str:
    return deep_link(bot_username, COUPON_START + code)
