"""Reposting a channel's offer from the dashboard or the API (issue 20): the bot's
``/repost`` (:meth:`PublishPosts.refresh_now`, cooldown and all), for the channel's
owner only, with a reason, audited.

An operator sees every channel but reposts none that is not theirs (NotAuthorized);
someone else's channel is unknown to an owner, exactly like a missing one.
"""

from __future__ import annotations

import attrs

from core.domain.audit import AuditRecord
from core.domain.ids import ChannelId
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWorkFactory
from core.services.dashboard import OwnerDashboard, Viewer, required_reason
from core.services.publish_posts import PublishPosts, PublishReport


@attrs.define(eq=False)
class RepostOffer:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _dashboard: OwnerDashboard
    _publish: PublishPosts

    async def repost(self, viewer: Viewer, channel_id: ChannelId, reason: str) -> PublishReport:
        """Post ``channel_id``'s offer afresh now, saying why. Raises UnknownChannel,
        NotAuthorized (an operator on someone else's channel), InvalidChannel (no
        reason), and as the bot's ``/repost``: TooSoon (within the cooldown),
        NothingToPost (no tiers, or sales paused). The audit records who, why and
        what came of it; a refused repost records nothing."""
        why = required_reason(reason)
        channel = await self._dashboard.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        report = await self._publish.refresh_now(channel.id)
        async with self._uow() as tx:
            await tx.audit.append(
                AuditRecord(
                    f"user:{viewer.user_id}",
                    "channel.offer_reposted",
                    f"channel:{channel.id}",
                    {
                        "reason": why,
                        "posted": str(report.posted),
                        "refreshed": str(report.refreshed),
                        "paused": str(report.paused),
                        "failed": str(report.failed),
                    },
                ),
                self._clock.now(),
            )
            await tx.commit()
        return report


__all__ = ["RepostOffer"]
