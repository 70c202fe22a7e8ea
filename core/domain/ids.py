"""Identifiers.

Our own ids come from the IdGenerator port and are short strings of ASCII letters and
digits, so they can be embedded in deep links and order ids with ``_`` as separator.
Telegram ids are integers (chats negative for groups and channels).
"""

from __future__ import annotations

import re
from typing import NewType

ChannelId = NewType("ChannelId", str)
IntentId = NewType("IntentId", str)
SubscriptionId = NewType("SubscriptionId", str)
GrantId = NewType("GrantId", str)
DonationId = NewType("DonationId", str)
OutboxId = NewType("OutboxId", str)

UserId = NewType("UserId", int)
"""A Telegram user id."""

ChatId = NewType("ChatId", int)
"""A Telegram chat id (private chats equal the user id; channels are negative)."""

MessageId = NewType("MessageId", int)

ID_PATTERN = re.compile(r"\A[A-Za-z0-9]{1,32}\Z")


def is_valid_id(value: str) -> bool:
    """Our ids are 1-32 ASCII letters or digits (see the IdGenerator port)."""
    return ID_PATTERN.match(value) is not None
