"""Access through a bundle: who may be in a member channel's closed chat, and the
grants and removals a home channel's subscription makes there.

- **Who may be in a closed chat**: the holder of an active subscription to its
  channel, or to a home channel whose bundle holds it (:func:`opening_subscription`).
  Join requests are approved, and removals dropped, by that one rule.
- **Grant**: once the home chat's link is issued, one :class:`IssueBundleInvite` per
  member is queued under a key of (subscription, period, channel); when it runs, the
  subscription must still be in that period and the channel still in the bundle,
  and the grant row (unique on the same three) makes each chat granted once however
  many workers run it. The link is a join-request link without an expiry: the bot
  approves only an active subscriber, so a renewal needs no new link.
- **Removal**: the end of a home subscription (expiry, refund, revocation) queues one
  :class:`LeaveBundle`; when it runs it queues a :class:`RemoveMember` per member
  chat under its key and the channel's id (each chat once), each dropped if the
  person still has access there by another subscription.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from core.domain.audit import AuditRecord
from core.domain.bundle import BundleGrant
from core.domain.channel import Channel
from core.domain.grant import GrantMode
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.outbox import IssueBundleInvite, LeaveBundle, RemoveMember, SendMessage
from core.domain.subscription import Subscription
from core.ports.clock import Clock
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.telegram import ChatAccess
from core.services import notices

__all__ = [
    "BundleAccess",
    "grant_members",
    "leave_key",
    "opening_subscription",
    "resend_members",
]


async def opening_subscription(
    tx: UnitOfWork, channel: Channel, user_id: UserId, now: datetime
) -> Subscription | None:
    """The subscription that lets ``user_id`` into ``channel``'s closed chat: their own
    while active, else an active one to a home channel bundling it, else their own
    (inactive) or None."""
    own = await tx.subscriptions.find(user_id, channel.id)
    if own is not None and own.is_active_at(now):
        return own
    for home in await tx.bundles.homes_of(channel.id):
        through = await tx.subscriptions.find(user_id, home)
        if through is not None and through.is_active_at(now):
            return through
    return own


async def grant_members(
    tx: UnitOfWork, subscription: Subscription, now: datetime, only: ChannelId | None = None
) -> int:
    """Queue the member chats of ``subscription``'s bundle (or just ``only``) for its
    current period; a chat queued before for that period is not queued again."""
    members = await tx.bundles.members(subscription.channel_id)
    queued = 0
    for member in members if only is None else [m for m in members if m == only]:
        effect = IssueBundleInvite(subscription.id, subscription.period, member)
        key = f"bundle-grant:{subscription.id}:{subscription.period}:{member}"
        queued += await tx.outbox.enqueue(key, effect, now)
    return queued


async def resend_members(
    tx: UnitOfWork, subscription: Subscription, send_key: str, now: datetime
) -> None:
    """The subscriber asked for their link again (``send_key``): each member chat's
    link goes with it."""
    for member in await tx.bundles.members(subscription.channel_id):
        effect = IssueBundleInvite(subscription.id, subscription.period, member, send_key)
        await tx.outbox.enqueue(f"{send_key}:bundle:{member}", effect, now)


async def leave_key(tx: UnitOfWork, key: str, subscription: Subscription, now: datetime) -> None:
    """Queue the removal from ``subscription``'s bundle under ``key``, if the channel
    has a bundle (a channel without one queues nothing)."""
    if await tx.bundles.members(subscription.channel_id):
        effect = LeaveBundle(subscription.channel_id, subscription.user_id, key)
        await tx.outbox.enqueue(key, effect, now)


@attrs.define(eq=False)
class BundleAccess:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _chat: ChatAccess = attrs.field(alias="chat_access")

    async def grant(self, effect: IssueBundleInvite) -> bool:
        """Let the subscriber into the member chat for the effect's period: True when
        this run granted it (a link made and its message queued)."""
        async with self._uow() as tx:
            now = self._clock.now()
            why = await self._stale(tx, effect, now)
            if why is not None:
                await tx.audit.append(_skipped(effect, why), now)
                await tx.commit()
                return False
            sub = await tx.subscriptions.get(effect.subscription_id)
            member = await tx.channels.get(effect.channel_id)
        name = f"bundle {sub.user_id} #{sub.period}"[:32]
        link = await self._chat.create_invite_link(
            member.closed_chat_id, name, GrantMode.JOIN_REQUEST, None
        )
        try:
            async with self._uow() as tx:
                now = self._clock.now()
                grant = BundleGrant(sub.id, sub.period, member.id, now)
                granted = await tx.bundles.add_grant(grant)
                resent = not granted and effect.resend is not None
                key = f"bundle-invite:{sub.id}:{sub.period}:{member.id}"
                if resent:
                    # Granted before: this is the link asked for again.
                    granted, key = True, f"{effect.resend}:bundle-sent:{member.id}"
                notice = notices.invite_message(member.id, member.title, link.url, sub.expires_at)
                if granted and await tx.outbox.enqueue(
                    key, SendMessage(ChatId(sub.user_id), notice), now
                ):
                    action = "bundle.resent" if resent else "bundle.granted"
                    details = {"channel": member.id, "period": str(sub.period)}
                    await tx.audit.append(
                        AuditRecord("system", action, f"subscription:{sub.id}", details), now
                    )
                    await tx.commit()
                else:
                    granted = False
        except Conflict:
            granted = False
        if not granted:
            # Another run granted (or resent) this chat meanwhile (a lease ran out): ours
            # must go.
            await self._chat.revoke_invite_link(member.closed_chat_id, link.url)
        return granted

    async def _stale(self, tx: UnitOfWork, effect: IssueBundleInvite, now: datetime) -> str | None:
        """Why the grant no longer applies, or None."""
        try:
            sub = await tx.subscriptions.get(effect.subscription_id)
            await tx.channels.get(effect.channel_id)
        except NotFound:
            return "gone"
        if not sub.is_active_at(now) or sub.period != effect.period:
            return "inactive"
        if effect.channel_id not in await tx.bundles.members(sub.channel_id):
            return "not in the bundle"
        granted = await tx.bundles.grants_of(sub.id)
        done = any(g.period == sub.period and g.channel_id == effect.channel_id for g in granted)
        if done and effect.resend is None:
            return "granted"
        return None

    async def leave(self, effect: LeaveBundle) -> int:
        """Queue the removal from each member chat of the bundle; how many were new."""
        async with self._uow() as tx:
            now = self._clock.now()
            queued = 0
            for member_id in await tx.bundles.members(effect.channel_id):
                try:
                    member = await tx.channels.get(member_id)
                except NotFound:
                    continue
                removal = RemoveMember(member.closed_chat_id, effect.user_id)
                queued += await tx.outbox.enqueue(f"{effect.key}:{member_id}", removal, now)
            await tx.commit()
        return queued


def _skipped(effect: IssueBundleInvite, why: str) -> AuditRecord:
    return AuditRecord(
        "system",
        "bundle.grant_skipped",
        f"subscription:{effect.subscription_id}",
        {"channel": effect.channel_id, "period": str(effect.period), "why": why},
    )
