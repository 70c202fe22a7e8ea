"""An owner's bundles: which of their other channels a channel's subscription also
opens (``/bundle``, issue 21).

- **Adding** a channel checks it is the owner's, then queues its grant for every
  active subscriber of the home channel (one per subscription period and chat, so
  never twice; each is checked again when it runs).
- **Removing** a channel takes it out at once: every active subscriber of the home
  channel is removed from its closed chat (dropped when it runs for someone with
  access there by another subscription). A period's grant is made once: someone
  whose channel is added back in the same period keeps the link they were sent.
- **A channel that changes hands** leaves every bundle it was in, and its own bundle
  is emptied (another owner's channels): :func:`detach`, audited.

Either change makes the posted offer stale: it names what a subscription includes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from core.domain.audit import AuditRecord
from core.domain.bundle import check_member
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, Why
from core.domain.ids import ChannelId, UserId
from core.domain.outbox import RemoveMember
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.bundle_access import grant_members

__all__ = ["Bundle", "ManageBundle", "detach"]


@attrs.frozen
class Bundle:
    """A home channel and the channels its subscription also opens."""

    home: Channel
    members: tuple[Channel, ...]
    granted: int = 0
    """Active subscribers the change that produced this view queued grants for."""


@attrs.define(eq=False)
class ManageBundle:
    _uow: UnitOfWorkFactory
    _clock: Clock

    async def show(self, owner: UserId, home_id: ChannelId) -> Bundle:
        """Raises NotFound, NotAuthorized."""
        async with self._uow() as tx:
            home = await tx.channels.get(home_id)
            home.ensure_owner(owner)
            return await _view(tx, home)

    async def add(
        self, owner: UserId, home_id: ChannelId, member_ids: Sequence[ChannelId]
    ) -> Bundle:
        """Put the channels in ``home_id``'s bundle and grant them to its active
        subscribers. Raises NotFound, NotAuthorized, InvalidChannel (nothing saved)."""
        async with self._uow() as tx:
            now = self._clock.now()
            home = await tx.channels.get(home_id)
            home.ensure_owner(owner)
            members = list(await tx.bundles.members(home.id))
            for member_id in member_ids:
                member = await tx.channels.get(member_id)
                check_member(home, member, members)
                await tx.bundles.add(home.id, member.id, now)
                members.append(member.id)
                await _audit(tx, owner, "bundle.added", home, member, now)
            granted = 0
            for sub in await tx.subscriptions.for_channel(home.id):
                if sub.is_active_at(now):
                    queued = [await grant_members(tx, sub, now, only=m) for m in member_ids]
                    granted += any(queued)
            home.bundle_changed()
            await tx.channels.update(home)
            view = await _view(tx, home)
            await tx.commit()
        return attrs.evolve(view, granted=granted)

    async def remove(
        self, owner: UserId, home_id: ChannelId, member_ids: Sequence[ChannelId]
    ) -> Bundle:
        """Take the channels out of ``home_id``'s bundle; its active subscribers leave
        their closed chats. Raises NotFound, NotAuthorized, InvalidChannel."""
        async with self._uow() as tx:
            now = self._clock.now()
            home = await tx.channels.get(home_id)
            home.ensure_owner(owner)
            for member_id in member_ids:
                member = await tx.channels.get(member_id)
                if not await tx.bundles.remove(home.id, member.id):
                    raise InvalidChannel(Why.BUNDLE_HAS_NOT, title=member.title)
                await _leave_at_once(tx, home, member, now)
                await _audit(tx, owner, "bundle.removed", home, member, now)
            home.bundle_changed()
            await tx.channels.update(home)
            view = await _view(tx, home)
            await tx.commit()
        return view


async def detach(tx: UnitOfWork, channel: Channel, now: datetime) -> None:
    """``channel`` changed hands: it leaves the bundles of its former owner's channels,
    and theirs leave its bundle; the subscribers who were let in through them leave."""
    pairs = [(home, channel.id) for home in await tx.bundles.homes_of(channel.id)]
    pairs += [(channel.id, member) for member in await tx.bundles.members(channel.id)]
    for home_id, member_id in pairs:
        home = channel if home_id == channel.id else await tx.channels.get(home_id)
        member = channel if member_id == channel.id else await tx.channels.get(member_id)
        await tx.bundles.remove(home.id, member.id)
        await _leave_at_once(tx, home, member, now)
        await _audit(tx, "system", "bundle.dropped", home, member, now)
        if home is not channel:
            home.bundle_changed()
            await tx.channels.update(home)
    if pairs:
        channel.bundle_changed()


async def _leave_at_once(tx: UnitOfWork, home: Channel, member: Channel, now: datetime) -> None:
    for sub in await tx.subscriptions.for_channel(home.id):
        if sub.is_active_at(now):
            await tx.outbox.enqueue(
                f"bundle-out:{sub.id}:{sub.period}:{member.id}:{now.isoformat()}",
                RemoveMember(member.closed_chat_id, sub.user_id),
                now,
            )


async def _audit(
    tx: UnitOfWork, who: UserId | str, action: str, home: Channel, member: Channel, now: datetime
) -> None:
    actor = who if isinstance(who, str) else f"user:{who}"
    await tx.audit.append(
        AuditRecord(actor, action, f"channel:{home.id}", {"member": member.id}), now
    )


async def _view(tx: UnitOfWork, home: Channel) -> Bundle:
    members = [await tx.channels.get(m) for m in await tx.bundles.members(home.id)]
    return Bundle(home, tuple(members))
