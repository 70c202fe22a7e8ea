"""Grant access: turn a queued grant into the subscriber's personal invite link.

Run by the outbox dispatcher for an ``IssueInvite`` effect. Telegram is called
outside any transaction; the link and the message that carries it are stored
together, and the message goes out through the outbox like every other effect, so
a crash at any point neither loses the grant nor issues it twice.

A link must work until the subscription's current end. A join-request link is made
to expire at the end as it was; when a renewal moves the end, or the subscriber asks
for the link again, :meth:`GrantAccess.refresh` moves the link's expiry along
(editChatInviteLink), or replaces a link that is gone or spent (a one-use link) with
a new one and revokes the old.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.grant import AccessGrant, GrantMode, GrantStatus
from core.domain.ids import ChatId, GrantId, SubscriptionId
from core.domain.outbox import SendMessage
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, InviteLink, LinkGone
from core.services import notices


@attrs.frozen
class GrantSettings:
    one_use_link_ttl: timedelta = timedelta(hours=24)
    """How long a one-use link (the fallback mode) stays valid."""


class GrantAccess:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        chat_access: ChatAccess,
        settings: GrantSettings | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._chat = chat_access
        self._settings = settings or GrantSettings()

    async def execute(self, grant_id: GrantId) -> GrantStatus:
        async with self._uow() as tx:
            grant = await tx.grants.get(grant_id)
            subscription = await tx.subscriptions.get(grant.subscription_id)
            channel = await tx.channels.get(grant.channel_id)
            now = self._clock.now()
            if grant.status is GrantStatus.CANCELLED:
                return grant.status
            if grant.status is GrantStatus.LINK_ISSUED:
                return grant.status
            if not subscription.is_active_at(now) or subscription.period != grant.period:
                grant.cancel()
                await tx.grants.update(grant)
                await tx.audit.append(
                    AuditRecord(
                        "system", "grant.cancelled", f"grant:{grant.id}", {"why": "inactive"}
                    ),
                    now,
                )
                await tx.commit()
                return grant.status

        link = await self._new_link(grant, channel.closed_chat_id, now, subscription.expires_at)

        async with self._uow() as tx:
            grant = await tx.grants.get(grant_id)
            now = self._clock.now()
            if grant.status is not GrantStatus.QUEUED:
                raced = True
            else:
                raced = False
                grant.issue_link(link.url, link.expires_at)
                await tx.grants.update(grant)
                await tx.outbox.enqueue(
                    f"invite:{grant.id}",
                    SendMessage(
                        ChatId(grant.user_id),
                        notices.invite_message(channel.title, link.url, subscription.expires_at),
                    ),
                    # The payer keeps their place in line: queued as of the grant, the
                    # message goes before the grants of later payments, instead of
                    # behind every one of them when payments come faster than Telegram
                    # takes messages.
                    grant.created_at,
                )
                await tx.audit.append(
                    AuditRecord(
                        "system", "grant.issued", f"grant:{grant.id}", {"mode": str(grant.mode)}
                    ),
                    now,
                )
                await tx.commit()
        if raced:
            # Another run issued a link meanwhile (a lease ran out); ours must not linger.
            await self._chat.revoke_invite_link(channel.closed_chat_id, link.url)
        return grant.status

    async def refresh(self, subscription_id: SubscriptionId, send_key: str | None) -> None:
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
        old, ends = grant.invite_link, subscription.expires_at
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
            link = await self._new_link(grant, channel.closed_chat_id, now, ends)
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
                            notices.invite_message(channel.title, link.url, ends),
                        ),
                        now,
                    )
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

    async def _new_link(
        self, grant: AccessGrant, chat: ChatId, now: datetime, ends: datetime
    ) -> InviteLink:
        """A new link for ``grant``: a join-request link lasts to the subscription's end,
        a one-use link a while (never past the end)."""
        expires_at = (
            ends
            if grant.mode is GrantMode.JOIN_REQUEST
            else min(now + self._settings.one_use_link_ttl, ends)
        )
        return await self._chat.create_invite_link(chat, _link_name(grant), grant.mode, expires_at)


def _link_name(grant: AccessGrant) -> str:
    # Telegram allows 32 characters; the name tells the owner whose link it is.
    return f"sub {grant.user_id} #{grant.period}"[:32]
