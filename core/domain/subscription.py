"""Subscriptions: who may be in which closed channel, until when."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from core.domain.errors import InvalidTransition, Why
from core.domain.ids import ChannelId, SubscriptionId, UserId


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@attrs.define
class Subscription:
    """One per (user, channel). ``period`` counts activations: a new access grant is
    due each time it goes from inactive to active, not when an active one is extended.
    ``reminders_sent`` holds the lead times (hours) already reminded in this term."""

    id: SubscriptionId
    user_id: UserId
    channel_id: ChannelId
    tier: int
    starts_at: datetime
    expires_at: datetime
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    period: int = 1
    reminders_sent: frozenset[int] = frozenset()
    version: int = 0
    """Optimistic lock: the store bumps it on every update and refuses an update made
    from a stale read (a sweep must not overwrite a renewal that committed meanwhile)."""

    @classmethod
    def start(
        cls,
        sub_id: SubscriptionId,
        user_id: UserId,
        channel_id: ChannelId,
        tier: int,
        length: timedelta,
        now: datetime,
    ) -> Subscription:
        return cls(sub_id, user_id, channel_id, tier, now, now + length)

    def is_active_at(self, now: datetime) -> bool:
        return self.status is SubscriptionStatus.ACTIVE and self.expires_at > now

    def extend(self, length: timedelta, tier: int, now: datetime) -> bool:
        """Add ``length``: from ``expires_at`` while still active, from ``now`` otherwise.

        Returns True when this (re)activated the subscription, i.e. a grant is due.
        Reminder marks are cleared: the new term gets its own reminders.
        """
        if length <= timedelta(0):
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="subscription", source=self.status, target="extended"
            )
        self.tier = tier
        self.reminders_sent = frozenset()
        if self.status is SubscriptionStatus.ACTIVE and self.expires_at > now:
            self.expires_at = self.expires_at + length
            return False
        self.status = SubscriptionStatus.ACTIVE
        self.starts_at = now
        self.expires_at = now + length
        self.period += 1
        return True

    def expire(self, now: datetime) -> None:
        if self.status is not SubscriptionStatus.ACTIVE:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="subscription", source=self.status, target="expired"
            )
        if self.expires_at > now:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="subscription", source="running", target="expired"
            )
        self.status = SubscriptionStatus.EXPIRED

    def take_back(self, length: timedelta, paid_at: datetime, now: datetime) -> bool:
        """A payment of ``length`` made at ``paid_at`` was refunded: the time it bought
        is taken back. Returns True when nothing paid is left (the subscription is
        revoked and its member must go).

        Only a payment of the current term is taken back: one made before the term
        started bought a term that is over (used, nothing to take). The reminders of
        the term are cleared, so the new end gets its own."""
        if length <= timedelta(0):
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="subscription", source=self.status, target="taken_back"
            )
        if self.status is not SubscriptionStatus.ACTIVE or paid_at < self.starts_at:
            return False
        self.expires_at = max(self.expires_at - length, self.starts_at)
        self.reminders_sent = frozenset()
        if self.expires_at <= now:
            self.status = SubscriptionStatus.REVOKED
            return True
        return False

    def revoke(self) -> None:
        if self.status is SubscriptionStatus.REVOKED:
            raise InvalidTransition(
                Why.MOVE_REFUSED, what="subscription", source=self.status, target="revoked"
            )
        self.status = SubscriptionStatus.REVOKED

    def reminder_due(self, lead_hours: int, now: datetime) -> bool:
        return (
            self.is_active_at(now)
            and lead_hours not in self.reminders_sent
            and self.expires_at - timedelta(hours=lead_hours) <= now
        )

    def mark_reminded(self, lead_hours: int) -> None:
        self.reminders_sent = self.reminders_sent | {lead_hours}
