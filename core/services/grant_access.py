"""Grant access: turn a queued grant into the subscriber's personal invite link.

Run by the outbox dispatcher for an ``IssueInvite`` effect. Telegram is called
outside any transaction; the link and the message that carries it are stored
together, and the message goes out through the outbox like every other effect, so
a crash at any point neither loses the grant nor issues it twice.

A link must work until the subscription's current end. A join-request link is made
to expire at the end as it was; when the end moves, :mod:`core.services.refresh_link`
moves the link along.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.grant import AccessGrant, GrantMode, GrantStatus
from core.domain.ids import ChatId, GrantId
from core.domain.outbox import SendMessage
from core.domain.tier import link_end
from core.domain.trial import TRIAL_TIER
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, InviteLink
from core.services import notices
from core.services.bundle_access import grant_members

__all__ = ["GrantAccess", "GrantSettings", "grant_settings", "new_invite_link"]


@attrs.frozen
class GrantSettings:
    one_use_link_ttl: timedelta = timedelta(hours=24)
    """How long a one-use link (the fallback mode) stays valid."""


def grant_settings(given: GrantSettings | None) -> GrantSettings:
    """None (a container's setting left unset) means the defaults."""
    return given or GrantSettings()


@attrs.define(eq=False)
class GrantAccess:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _settings: GrantSettings = attrs.field(default=None, converter=grant_settings)

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

        link = await new_invite_link(
            self._chat, self._settings, grant, channel.closed_chat_id, now, subscription.expires_at
        )

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
                        notices.invite_message(
                            channel.id,
                            channel.title,
                            link.url,
                            subscription.expires_at,
                            subscription.tier == TRIAL_TIER,
                        ),
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
                # The channels bundled with this one follow, one grant each.
                await grant_members(tx, subscription, now)
                await tx.commit()
        if raced:
            # Another run issued a link meanwhile (a lease ran out); ours must not linger.
            await self._chat.revoke_invite_link(channel.closed_chat_id, link.url)
        return grant.status


async def new_invite_link(
    chat_access: ChatAccess,
    settings: GrantSettings,
    grant: AccessGrant,
    chat: ChatId,
    now: datetime,
    ends: datetime,
) -> InviteLink:
    """A new link for ``grant`` (issued, or replacing one gone): a join-request link
    lasts to the subscription's end, a one-use link a while (never past the end)."""
    ends = link_end(ends, now)
    expires_at = (
        ends if grant.mode is GrantMode.JOIN_REQUEST else min(now + settings.one_use_link_ttl, ends)
    )
    return await chat_access.create_invite_link(chat, _link_name(grant), grant.mode, expires_at)


def _link_name(grant: AccessGrant) -> str:
    # Telegram allows 32 characters; the name tells the owner whose link it is.
    return f"sub {grant.user_id} #{grant.period}"[:32]
