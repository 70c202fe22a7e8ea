"""Access grants: how a paying subscriber gets into the closed channel."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from core.domain.errors import InvalidTransition, Why
from core.domain.ids import ChannelId, GrantId, SubscriptionId, UserId


class GrantMode(StrEnum):
    JOIN_REQUEST = "join_request"
    """Default: a link unique to the subscription that creates join requests; the bot
    approves only the user who paid and declines anyone else who uses it."""
    ONE_USE_LINK = "one_use_link"
    """Fallback: a link valid for one join, expiring after a while."""


class GrantStatus(StrEnum):
    QUEUED = "queued"
    LINK_ISSUED = "link_issued"
    CANCELLED = "cancelled"


@attrs.define
class AccessGrant:
    """One per (subscription, period): unique, so a grant is never issued twice."""

    id: GrantId
    subscription_id: SubscriptionId
    user_id: UserId
    channel_id: ChannelId
    period: int
    mode: GrantMode
    created_at: datetime
    status: GrantStatus = GrantStatus.QUEUED
    invite_link: str | None = None
    link_expires_at: datetime | None = None

    def issue_link(self, link: str, expires_at: datetime | None) -> None:
        if self.status is GrantStatus.CANCELLED:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="grant", source="cancelled", target="issued"
            )
        if self.invite_link is not None:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="grant", source="issued", target="issued"
            )
        self.invite_link = link
        self.link_expires_at = expires_at
        self.status = GrantStatus.LINK_ISSUED

    def replace_link(self, link: str, expires_at: datetime | None) -> None:
        """The subscriber's link now is ``link`` (the same one with a later expiry, or
        a new one that replaced a spent or revoked one)."""
        if self.status is not GrantStatus.LINK_ISSUED:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="grant", source=self.status, target="replaced"
            )
        self.invite_link = link
        self.link_expires_at = expires_at

    def cancel(self) -> None:
        self.status = GrantStatus.CANCELLED
