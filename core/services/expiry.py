"""Expire subscriptions: reminders before the end, removal after it.

Due subscriptions are walked in keyset pages (``expires_at``, ``id``) with one short
unit of work per page, never a query that loads them all. Reminders go out once per
lead time per term (the marks are cleared when a subscription is extended, so a
renewed subscriber is not reminded of the old end); if the sweeper was down and
several lead times are due at once, only the most urgent reminder is sent. A
Telegram Stars subscription that renews itself is not reminded to renew.

A member of the channel through Telegram's own Stars link (issue 21) holds a
subscription ending at Telegram's ``until_date``, so it is never expired while that
is in the future; once it has passed it is marked expired, but the member is not
removed here (Telegram removes them, and a renewal reported late must not find them
thrown out) nor reminded.

A sweep's cost follows the subscriptions it acts on: the reminder walk starts at the
present (a subscription that has ended gets no reminder), and a channel is read only
for a subscription that gets a message, once per sweep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.figures import DailyFigure
from core.domain.ids import ChannelId, ChatId, SubscriptionId
from core.domain.offer_token import OfferToken
from core.domain.outbox import RemoveMember, SendMessage, Standing
from core.domain.signing import MacKeyring
from core.domain.stars_link import STARS_LINK_TIER
from core.domain.subscription import Subscription
from core.ports.clock import Clock
from core.ports.errors import Conflict
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services import notices
from core.services.bundle_access import leave_key


def _leads(_: object, __: attrs.Attribute[tuple[int, ...]], value: tuple[int, ...]) -> None:
    if any(lead <= 0 for lead in value):
        raise ValueError("reminder lead times are positive numbers of hours")


@attrs.frozen
class ExpirySettings:
    reminder_leads_hours: tuple[int, ...] = attrs.field(default=(72, 24), validator=_leads)
    grace: timedelta = timedelta(0)
    """Members stay this long after their end before being removed."""
    page_size: int = 200


def expiry_settings(given: ExpirySettings | None) -> ExpirySettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or ExpirySettings()


@attrs.frozen
class SweepReport:
    reminders: int = 0
    expired: int = 0


Keyset = tuple[datetime, SubscriptionId]
_PAGE_ATTEMPTS = 3
_CHANNELS_KEPT = 1000
"""Channels a sweep keeps once read: enough for every channel of most deployments, and
a bound on memory however many there are."""


class _Channels:
    """Channels read during one sweep. The sweep uses only a channel's id, title and
    closed chat, which are fixed when the channel is registered, so a channel read in
    an earlier page's unit of work is as good as a fresh read."""

    def __init__(self) -> None:
        self._kept: dict[ChannelId, Channel] = {}
        self._bundles: dict[ChannelId, tuple[str, ...]] = {}

    async def get(self, tx: UnitOfWork, channel_id: ChannelId) -> Channel:
        channel = self._kept.get(channel_id)
        if channel is None:
            channel = await tx.channels.get(channel_id)
            if len(self._kept) >= _CHANNELS_KEPT:
                del self._kept[next(iter(self._kept))]  # the first one read
            self._kept[channel_id] = channel
        return channel

    async def includes(self, tx: UnitOfWork, channel_id: ChannelId) -> tuple[str, ...]:
        """The titles of the channels bundled with this one (what a reminder names)."""
        titles = self._bundles.get(channel_id)
        if titles is None:
            members = await tx.bundles.members(channel_id)
            titles = tuple([(await self.get(tx, member)).title for member in members])
            if len(self._bundles) >= _CHANNELS_KEPT:
                del self._bundles[next(iter(self._bundles))]
            self._bundles[channel_id] = titles
        return titles


_Handler = Callable[[UnitOfWork, Subscription, _Channels], Awaitable[bool]]


@attrs.define(eq=False)
class ExpireSubscriptions:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring
    _settings: ExpirySettings = attrs.field(default=None, converter=expiry_settings)

    async def execute(self) -> SweepReport:
        now = self._clock.now()
        reminders = await self._remind(now)
        expired = await self._expire(now)
        return SweepReport(reminders=reminders, expired=expired)

    async def _remind(self, now: datetime) -> int:
        leads = sorted(self._settings.reminder_leads_hours)
        if not leads:
            return 0

        async def remind(tx: UnitOfWork, sub: Subscription, channels: _Channels) -> bool:
            due = [lead for lead in leads if sub.reminder_due(lead, now)]
            if not due or await _renews_in_stars(tx, sub):
                return False
            channel = await channels.get(tx, sub.channel_id)
            urgent = due[0]
            for lead in due:
                sub.mark_reminded(lead)
            await tx.subscriptions.update(sub)
            offer = OfferToken(channel.id, channel.renewal_tier(sub.tier, now))
            await tx.outbox.enqueue(
                f"remind:{sub.id}:{sub.expires_at.isoformat()}:{urgent}",
                SendMessage(
                    ChatId(sub.user_id),
                    notices.reminder_message(
                        channel.title,
                        sub.expires_at,
                        offer,
                        self._keyring,
                        await channels.includes(tx, channel.id),
                    ),
                    # Not sent if a renewal moves the end before it goes out.
                    standing=Standing(sub.id, active=True, expires_at=sub.expires_at),
                ),
                now,
            )
            await tx.audit.append(
                AuditRecord(
                    "system",
                    "subscription.reminded",
                    f"subscription:{sub.id}",
                    {"lead_hours": str(urgent)},
                ),
                now,
            )
            return True

        # A reminder is due only while the subscription is active at ``now``, so the
        # walk starts after those that ended by then (during the grace, or while the
        # sweeper was down, they can be most of the window).
        start: Keyset = (now, SubscriptionId(""))
        return await self._sweep(now + timedelta(hours=leads[-1]), remind, start)

    async def _expire(self, now: datetime) -> int:
        async def expire(tx: UnitOfWork, sub: Subscription, channels: _Channels) -> bool:
            await self._expire_one(tx, sub, await channels.get(tx, sub.channel_id), now)
            return True

        return await self._sweep(now - self._settings.grace, expire)

    async def _sweep(self, cutoff: datetime, handle: _Handler, start: Keyset | None = None) -> int:
        """Walk active subscriptions ending by ``cutoff`` (after ``start``) page by page;
        one unit of work per page. A page that lost a race (a renewal committed
        meanwhile) is re-read."""
        count = 0
        after = start
        channels = _Channels()
        while True:
            for attempt in range(_PAGE_ATTEMPTS):
                try:
                    page, handled = await self._page(cutoff, after, handle, channels)
                    break
                except Conflict:
                    if attempt == _PAGE_ATTEMPTS - 1:
                        raise
            count += handled
            if len(page) < self._settings.page_size:
                return count
            after = (page[-1].expires_at, page[-1].id)

    async def _page(
        self, cutoff: datetime, after: Keyset | None, handle: _Handler, channels: _Channels
    ) -> tuple[list[Subscription], int]:
        handled = 0
        async with self._uow() as tx:
            page = list(
                await tx.subscriptions.active_expiring_before(
                    cutoff, after, self._settings.page_size
                )
            )
            for sub in page:
                if await handle(tx, sub, channels):
                    handled += 1
            await tx.commit()
        return page, handled

    async def _expire_one(
        self, tx: UnitOfWork, sub: Subscription, channel: Channel, now: datetime
    ) -> None:
        sub.expire(now)
        await tx.subscriptions.update(sub)
        if sub.tier != STARS_LINK_TIER:  # Telegram removes its own link's members
            await tx.outbox.enqueue(
                f"remove:{sub.id}:{sub.period}",
                RemoveMember(channel.closed_chat_id, sub.user_id),
                now,
            )
        # The channels bundled with this one: removed from each, once each.
        await leave_key(tx, f"leave:{sub.id}:{sub.period}", sub, now)
        await tx.outbox.enqueue(
            f"ended:{sub.id}:{sub.period}",
            SendMessage(
                ChatId(sub.user_id),
                notices.ended_message(
                    channel.title,
                    OfferToken(channel.id, channel.renewal_tier(sub.tier, now)),
                    self._keyring,
                ),
                # Not sent to a subscriber who paid again before it went out.
                standing=Standing(sub.id, active=False),
            ),
            now,
        )
        await tx.audit.append(
            AuditRecord(
                "system",
                "subscription.expired",
                f"subscription:{sub.id}",
                {"period": str(sub.period)},
            ),
            now,
        )
        await tx.figures.add([DailyFigure.churn(channel.id, now)])


async def _renews_in_stars(tx: UnitOfWork, sub: Subscription) -> bool:
    """Telegram renews this subscription by itself (a Stars subscription not
    canceled): no reminder to renew. Asked again at each sweep, so one canceled
    within the reminders' window is reminded still."""
    if sub.tier == STARS_LINK_TIER:
        return True  # Telegram's own Stars link: Telegram renews it until canceled
    renewals = await tx.stars_renewals.of_user(sub.user_id)
    return any(r.renews and r.channel_id == sub.channel_id for r in renewals)
