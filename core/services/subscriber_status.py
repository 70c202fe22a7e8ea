"""What a subscriber can ask the bot about themselves: their subscriptions (``/status``)
and their access link again, for when they lost it or left the channel."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.errors import DomainError, Why
from core.domain.grant import GrantStatus
from core.domain.ids import ChannelId, UserId
from core.domain.offer_token import OfferToken
from core.domain.outbox import IssueInvite, RefreshInvite
from core.domain.signing import MacKeyring
from core.domain.subscription import SubscriptionStatus
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory


class NoActiveSubscription(DomainError):
    """There is nothing to give access to."""


@attrs.frozen
class SubscriptionView:
    channel_id: ChannelId
    title: str
    tier: int
    expires_at: datetime
    active: bool
    renew_token: str
    """The offer token of the same tier, for a Renew button."""
    renews_in_stars: bool = False
    """Telegram renews it by itself (a Stars subscription not canceled)."""
    includes: tuple[str, ...] = ()
    """The titles of the channels its bundle also opens."""


@attrs.define(eq=False)
class SubscriberStatus:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring

    async def execute(self, user_id: UserId) -> list[SubscriptionView]:
        now = self._clock.now()
        views: list[SubscriptionView] = []
        async with self._uow() as tx:
            renewing = {r.channel_id for r in await tx.stars_renewals.of_user(user_id) if r.renews}
            for sub in await tx.subscriptions.for_user(user_id):
                if sub.status is SubscriptionStatus.REVOKED:
                    continue
                try:
                    channel = await tx.channels.get(sub.channel_id)
                except NotFound:
                    continue
                views.append(
                    SubscriptionView(
                        channel.id,
                        channel.title,
                        sub.tier,
                        sub.expires_at,
                        sub.is_active_at(now),
                        OfferToken(channel.id, channel.renewal_tier(sub.tier, now)).encode(
                            self._keyring
                        ),
                        sub.is_active_at(now) and channel.id in renewing,
                        await _bundle_titles(tx, channel.id),
                    )
                )
        return sorted(views, key=lambda v: (not v.active, v.expires_at))


async def _bundle_titles(tx: UnitOfWork, channel_id: ChannelId) -> tuple[str, ...]:
    titles = []
    for member in await tx.bundles.members(channel_id):
        try:
            titles.append((await tx.channels.get(member)).title)
        except NotFound:
            continue
    return tuple(titles)


@attrs.define(eq=False)
class ResendAccess:
    """Send the subscriber's personal invite link again (at most once per ``every``)."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _every: timedelta = timedelta(minutes=1)

    async def execute(self, user_id: UserId, channel_id: ChannelId) -> None:
        async with self._uow() as tx:
            now = self._clock.now()
            sub = await tx.subscriptions.find(user_id, channel_id)
            if sub is None or not sub.is_active_at(now):
                raise NoActiveSubscription(Why.NO_SUBSCRIPTION)
            await tx.channels.get(channel_id)  # NotFound for a channel gone meanwhile
            grant = await tx.grants.latest_for(sub.id)
            # One resend per window: the key repeats within it, so a flood of taps is one message.
            window = int(now.timestamp() // self._every.total_seconds())
            if grant is not None and grant.invite_link is not None and grant.period == sub.period:
                # The link may end before the subscription does (an early renewal moved
                # the end) or be spent (one-use): it is made good when this runs, then sent.
                await tx.outbox.enqueue(
                    f"resend:{grant.id}:{window}",
                    RefreshInvite(sub.id, send_key=f"resent:{grant.id}:{window}"),
                    now,
                )
            elif grant is not None and grant.status is GrantStatus.QUEUED:
                await tx.outbox.enqueue(f"grant:{grant.id}", IssueInvite(grant.id), now)
            else:
                raise NoActiveSubscription(Why.ACCESS_PREPARING)
            await tx.audit.append(
                AuditRecord(f"user:{user_id}", "access.resent", f"subscription:{sub.id}"), now
            )
            await tx.commit()
