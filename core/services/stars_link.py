"""Telegram's own Stars subscription link (issue 21): the owner's switch, and the
members Telegram reports.

The owner switches a channel to it with a price (the bot has Telegram make the link
in the closed channel) or off (Telegram revokes the link; its members keep what they
paid for until Telegram removes them). When Telegram reports a member who joined or
renewed through the link, the subscription runs to Telegram's ``until_date``:
recorded once per report (the same report again changes nothing), audited, and never
removed by PayGate's expiry (see :mod:`core.services.expiry`).
"""

from __future__ import annotations

import copy
from datetime import timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, SubscriptionId, UserId
from core.domain.stars_link import STARS_LINK_TIER, StarsLink, StarsLinkMember, stars_link_price
from core.domain.subscription import Subscription
from core.ports.clock import Clock, IdGenerator
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess
from core.services.channel_settings import owned_by_its_creator
from core.services.creators import CreatorCheck


@attrs.define(eq=False)
class StarsLinkMembers:
    """Records what Telegram reports of the members of a channel's Stars link."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator

    async def member(self, report: StarsLinkMember) -> bool:
        """The member's subscription now ends at ``report.until``; False when nothing
        changed (not this channel's current link, an end already recorded or past)."""
        now = self._clock.now()
        if report.until <= now:
            return False
        async with self._uow() as tx:
            channel = await tx.channels.by_chat(ChatId(report.chat_id))
            if channel is None or not _sold_by(channel, report):
                return False
            user = UserId(report.user_id)
            found = await tx.subscriptions.find(user, channel.id)
            if found is not None and found.is_active_at(now) and found.expires_at >= report.until:
                return False  # this report (or a later one) is in already
            if found is None:
                sub_id = SubscriptionId(self._ids.new_id())
                sub = Subscription.start(
                    sub_id, user, channel.id, STARS_LINK_TIER, timedelta(0), now, report.until
                )
            else:
                sub = copy.copy(found)
                sub.extend_to(report.until, STARS_LINK_TIER, now)
            changes = PaymentChanges(
                new_subscriptions=[sub] if found is None else [],
                changed_subscriptions=[] if found is None else [sub],
                audit=[_recorded(sub, channel, report)],
            )
            await tx.payments.save(changes, now)
            await tx.commit()
        return True


def _sold_by(channel: Channel, report: StarsLinkMember) -> bool:
    link = channel.stars_link
    return link is not None and link.url == report.url and channel.closed_chat_id == report.chat_id


def _recorded(sub: Subscription, channel: Channel, report: StarsLinkMember) -> AuditRecord:
    return AuditRecord(
        "telegram",
        "subscription.stars_link",
        f"subscription:{sub.id}",
        {"channel": channel.id, "user": str(sub.user_id), "until": report.until.isoformat()},
    )


@attrs.define(eq=False)
class SwitchStarsLink:
    """The owner's ``/stars_link``: Telegram's link at a price, or none."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _chat: ChatAccess

    @property
    def _creators(self) -> CreatorCheck:
        return CreatorCheck(self._chat)

    async def execute(self, owner: UserId, channel_id: ChannelId, stars: int | None) -> Channel:
        """``stars`` None switches it off. Raises UnknownChannel/NotAuthorized for
        someone else's channel, InvalidChannel for a price out of 1..10000; the chat
        port's errors when Telegram refuses (a closed chat that is not a channel, or
        the bot without the right to invite)."""
        price = None if stars is None else stars_link_price(stars)
        channel = await owned_by_its_creator(self._uow, self._creators, channel_id, owner)
        old = channel.stars_link
        link = None
        if price is not None:
            url = await self._chat.create_subscription_link(channel.closed_chat_id, price)
            link = StarsLink(url, price)
        if old is not None:
            await self._chat.revoke_invite_link(channel.closed_chat_id, old.url)
        now = self._clock.now()
        async with self._uow() as tx:
            channel = await tx.channels.get(channel_id)
            channel.ensure_owner(owner)
            channel.set_stars_link(link)
            await tx.channels.update(channel)
            details = {"stars": "off" if price is None else str(price.amount)}
            await tx.audit.append(
                AuditRecord(
                    f"user:{owner}", "channel.stars_link", f"channel:{channel.id}", details
                ),
                now,
            )
            await tx.commit()
        return channel
