"""Bundles: one channel's subscription that also opens other closed channels of the
same owner.

A bundle belongs to its *home* channel, whose offer sells it: the owner adds other
channels they own as *members*. Access is not transitive: a member's own bundle is
not part of its home's. Every member is granted, reminded of and removed through the
home channel's subscription (see :mod:`core.services.bundle_access`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, NotAuthorized
from core.domain.ids import ChannelId, SubscriptionId

MAX_MEMBERS = 10
"""Channels a bundle may add to its home channel: each is one more invite link per
subscriber, so the grant of one payment stays a handful of Telegram calls."""


def check_member(home: Channel, member: Channel, members: Sequence[ChannelId]) -> None:
    """``member`` may join ``home``'s bundle of ``members``: another channel of the same
    owner, not there yet, with room left. Raises InvalidChannel or NotAuthorized."""
    if member.id == home.id:
        raise InvalidChannel("a channel is always part of its own subscription")
    if member.owner_id != home.owner_id:
        raise NotAuthorized("a bundle only holds channels of the same owner")
    if member.id in members:
        raise InvalidChannel(f"{member.title} is in this bundle already")
    if len(members) >= MAX_MEMBERS:
        raise InvalidChannel(f"a bundle holds at most {MAX_MEMBERS} other channels")


@attrs.frozen
class BundleGrant:
    """One member chat granted for one period of a home channel's subscription:
    unique on (subscription, period, channel), so each chat is granted once a period."""

    subscription_id: SubscriptionId
    period: int
    channel_id: ChannelId
    created_at: datetime
