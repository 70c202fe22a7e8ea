"""The owners' dashboard, as use cases: who may look, and what each viewer sees.

An owner sees and changes only their own channels; an operator
(``PAYGATE_OPERATOR_IDS``) sees every channel and changes none that is not theirs.
A channel the viewer may not see is reported as unknown, exactly like one that does
not exist, so ids cannot be probed (no IDOR). Changes go through the bot's own use
cases (ChangeSales, ResumeSales) and are audited with the person and their reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, NotAuthorized, UnknownChannel, Why
from core.domain.ids import ChannelId, UserId
from core.ports.clock import Clock
from core.ports.dashboard import ChannelFigures, ChannelName
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.channel_settings import ChangeSales
from core.services.overview import WINDOWS, Overview, overview
from core.services.resume_sales import ResumeOutcome, ResumeSales

MAX_REASON = 500


@attrs.frozen
class Viewer:
    user_id: UserId
    operator: bool = False


def required_reason(text: str) -> str:
    """The reason an owner gives for a change, spaces folded; refused when missing or
    longer than MAX_REASON."""
    reason = " ".join(text.split())
    if not reason:
        raise InvalidChannel(Why.REASON_MISSING)
    if len(reason) > MAX_REASON:
        raise InvalidChannel(Why.REASON_TOO_LONG, most=MAX_REASON)
    return reason


@attrs.define(eq=False)
class OwnerDashboard:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _figures: ChannelFigures
    _sales: ChangeSales
    _resume: ResumeSales
    _operators: frozenset[UserId] = frozenset()

    async def admit(self, user_id: UserId) -> Viewer:
        """Who may log in: an operator, or the owner of at least one channel. Raises
        NotAuthorized for anyone else."""
        if user_id in self._operators:
            return Viewer(user_id, operator=True)
        async with self._uow() as tx:
            owned = await tx.channels.by_owner(user_id)
        if not owned:
            raise NotAuthorized(Why.OWNERS_ONLY)
        return Viewer(user_id)

    async def channels(self, viewer: Viewer) -> Sequence[Channel]:
        async with self._uow() as tx:
            if viewer.operator:
                found = await tx.channels.all()
            else:
                found = await tx.channels.by_owner(viewer.user_id)
        return sorted(found, key=lambda c: (c.title.casefold(), c.id))

    async def bundled(self, channels: Sequence[Channel]) -> dict[ChannelId, tuple[Channel, ...]]:
        """The channels each of ``channels`` bundles (all its owner's), in the order added."""
        shown = {c.id for c in channels}
        found: dict[ChannelId, tuple[Channel, ...]] = {}
        async with self._uow() as tx:
            for home, member in await tx.bundles.pairs():
                if home in shown:
                    found[home] = (*found.get(home, ()), await tx.channels.get(member))
        return found

    async def bundles(self, channels: Sequence[Channel]) -> dict[ChannelId, tuple[str, ...]]:
        """The titles of the channels each of ``channels`` bundles."""
        bundled = await self.bundled(channels)
        return {home: tuple(c.title for c in members) for home, members in bundled.items()}

    async def channel(self, viewer: Viewer, channel_id: ChannelId) -> Channel:
        """Raises UnknownChannel when it does not exist or the viewer may not see it."""
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
            except NotFound as exc:
                raise UnknownChannel(Why.NO_SUCH_CHANNEL) from exc
        if not viewer.operator and channel.owner_id != viewer.user_id:
            raise UnknownChannel(Why.NO_SUCH_CHANNEL)
        return channel

    async def overview(
        self, viewer: Viewer, days: int, channel_id: ChannelId | None = None, page: int = 1
    ) -> Overview:
        """The figures of the viewer's channels (an operator's: all), or of the one
        channel ``channel_id`` (UnknownChannel as :meth:`channel`), over the last
        ``days`` (see :data:`~core.services.overview.WINDOWS`), with the lines of
        ``page``'s channels. Raises InvalidChannel for another window or page."""
        if days not in WINDOWS:
            raise InvalidChannel(Why.OVERVIEW_WINDOW)
        chosen: Sequence[ChannelName] | None = None  # the operator's: every channel
        if channel_id is not None:
            one = await self.channel(viewer, channel_id)
            chosen = [ChannelName(one.id, one.title, one.owner_id)]
        elif not viewer.operator:
            chosen = await self._figures.names(viewer.user_id)
        return await overview(self._figures, chosen, self._clock.now(), days, page)

    async def pause(self, viewer: Viewer, channel_id: ChannelId, reason: str) -> bool:
        """The owner pauses sales, saying why. False when they were paused already.
        Raises UnknownChannel, NotAuthorized (an operator on someone else's channel),
        InvalidChannel (no reason)."""
        why = required_reason(reason)
        channel = await self.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        paused = await self._sales.pause_channel(channel.id, why, viewer.user_id)
        return paused is not None

    async def resume(self, viewer: Viewer, channel_id: ChannelId, reason: str) -> ResumeOutcome:
        """The owner resumes sales, saying why; the bot's rights are checked first (see
        ResumeSales). Raises as :meth:`pause`, and MissingRights, Unavailable."""
        why = required_reason(reason)
        channel = await self.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        return await self._resume.execute(viewer.user_id, channel.id, why)


__all__ = ["OwnerDashboard", "Viewer", "required_reason"]
