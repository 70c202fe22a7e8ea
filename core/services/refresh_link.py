"""Refresh a subscriber's link: make it work until the subscription's current end.

A join-request link is made to expire at the end as it was
(:mod:`core.services.grant_access`); when a renewal moves the end, or the subscriber
asks for the link again, the link's expiry is moved along (editChatInviteLink), or a
link that is gone or spent (a one-use link) is replaced with a new one and the old
one revoked. Run by the outbox dispatcher for a ``RefreshInvite`` effect: Telegram
is called outside any transaction, and the link is stored with the message that
carries it.
"""

from __future__ import annotations

import contextlib

import attrs

from core.domain.audit import AuditRecord
from core.domain.grant import GrantMode, GrantStatus
from core.domain.ids import ChatId, SubscriptionId
from core.domain.outbox import SendMessage
from core.domain.tier import link_end
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, InviteLink, LinkGone
from core.services import notices
from core.services.bundle_access import resend_members
from core.services.grant_access import GrantSettings, grant_settings, new_invite_link

__all__ = ["RefreshLink"]


@attrs.define(eq=False)
class RefreshLink:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _settings: GrantSettings = attrs.field(default=None, converter=grant_settings)

    async def execute(self, subscription_id: SubscriptionId, send_key: str | None) -> None:
        """Make the subscriber's link work until the subscription's current end; with
        ``send_key``, send it to them under that outbox key. Does nothing for a
        subscription that is no longer active, or whose grant has no link yet (the
        queued grant makes one that lasts to the current end)."""
        async with self._uow() as tx:
            try:
                subscription = await tx.subscriptions.get(subscription_id)
            except NotFound:
                return
            now = self._clock.now()
            grant = await tx.grants.latest_for(subscription.id)
            if (
                not subscription.is_active_at(now)
                or grant is None
                or grant.period != subscription.period
                or grant.status is not GrantStatus.LINK_ISSUED
                or grant.invite_link is None
            ):
                return
            channel = await tx.channels.get(grant.channel_id)
        old, ends = grant.invite_link, link_end(subscription.expires_at, now)
        link: InviteLink | None = None
        if grant.mode is GrantMode.JOIN_REQUEST:
            # Telegram keeps whole seconds: a link ending within the second lasts.
            if grant.link_expires_at is None or grant.link_expires_at >= ends.replace(
                microsecond=0
            ):
                link = InviteLink(old, grant.link_expires_at)
            else:
                try:
                    link = await self._chat.edit_invite_link(channel.closed_chat_id, old, ends)
                except LinkGone:
                    link = None
        elif send_key is None:
            return  # a one-use link was for joining once: nothing to keep alive
        if link is None:
            link = await new_invite_link(
                self._chat, self._settings, grant, channel.closed_chat_id, now, ends
            )
        replaced = link.url != old

        async with self._uow() as tx:
            grant = await tx.grants.get(grant.id)
            now = self._clock.now()
            raced = grant.invite_link != old
            if not raced:
                changed = replaced or link.expires_at != grant.link_expires_at
                grant.replace_link(link.url, link.expires_at)
                await tx.grants.update(grant)
                if send_key is not None:
                    await tx.outbox.enqueue(
                        send_key,
                        SendMessage(
                            ChatId(grant.user_id),
                            notices.invite_message(channel.id, channel.title, link.url, ends),
                        ),
                        now,
                    )
                    # The links of the channels bundled with this one go too.
                    await resend_members(tx, subscription, send_key, now)
                if changed:
                    until = "" if link.expires_at is None else link.expires_at.isoformat()
                    await tx.audit.append(
                        AuditRecord(
                            "system",
                            "grant.link_replaced" if replaced else "grant.link_extended",
                            f"grant:{grant.id}",
                            {"expires_at": until},
                        ),
                        now,
                    )
                await tx.commit()
        if replaced:
            # The new link stands (or, raced, ours lost): the other one must not linger.
            with contextlib.suppress(LinkGone):
                await self._chat.revoke_invite_link(
                    channel.closed_chat_id, link.url if raced else old
                )
