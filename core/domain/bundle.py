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
from core.domain.errors import InvalidChannel, NotAuthorized, Why
from core.domain.ids import ChannelId, SubscriptionId

MAX_MEMBERS = 10
"""Channels a bundle may add to its home channel: each is one more invite link per
subscriber, so the grant of one payment stays a handful of Telegram calls."""


def check_member(home: Channel, member: Channel, members: Sequence[ChannelId]) -> None:
    """``member`` may join ``home``'s bundle of ``members``: another channel of the same
    owner, not there yet, with room left. Raises InvalidChannel or NotAuthorized."""
    if member.id == home.id:
        raise InvalidChannel(Why.BUNDLE_SELF)
    if member.owner_id != home.owner_id:
        raise NotAuthorized(Why.BUNDLE_OTHER_OWNER)
    if member.id in members:
        raise InvalidChannel(Why.BUNDLE_HAS_ALREADY, title=member.title)
    if len(members) >= MAX_MEMBERS:
        raise InvalidChannel(Why.BUNDLE_FULL, most=MAX_MEMBERS)


@attrs.frozen
class BundleGrant:
    """One member chat granted for one period of a home channel's subscription:
    unique on (subscription, period, channel), so each chat is granted once a period."""

    subscription_id: SubscriptionId
    period: int
    channel_id: ChannelId
    created_at: datetime
