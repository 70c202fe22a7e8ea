"""Owners' own wording of their channel's messages (:mod:`core.ports.wordings`): only
the channel's owner may stage, publish or reset it, and every published change and
reset is audited. Whether a text is fit to send is the catalog's to say (it checks a
draft before it is staged); the core keeps what the owner wrote."""

from __future__ import annotations

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import ChannelId, UserId
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.ports.wordings import Wording, WordingBook, WordingKind


@attrs.define(eq=False)
class OwnWording:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _book: WordingBook

    async def _owned(self, actor: UserId, channel_id: ChannelId) -> Channel:
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
            except NotFound as exc:
                raise UnknownChannel(Why.NO_SUCH_CHANNEL) from exc
        channel.ensure_owner(actor)
        return channel

    async def published(self, actor: UserId, channel_id: ChannelId) -> list[Wording]:
        await self._owned(actor, channel_id)
        return await self._book.published(channel_id)

    async def stage(self, draft: Wording) -> None:
        """Kept for its author to preview; nobody else reads it yet."""
        await self._owned(draft.author, draft.channel_id)
        await self._book.stage(draft)

    async def publish(
        self, actor: UserId, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        """The actor's staged draft is what subscribers read from now on (None: no
        draft was staged, or it was published already)."""
        await self._owned(actor, channel_id)
        published = await self._book.publish(channel_id, kind, language)
        if published is not None:
            await self._audit(actor, "channel.wording_set", published, len(published.text))
        return published

    async def reset(
        self, actor: UserId, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> bool:
        """Back to the catalog's words; False when the channel had none of its own."""
        await self._owned(actor, channel_id)
        reset = await self._book.reset(channel_id, kind, language)
        if reset:
            await self._audit(
                actor, "channel.wording_reset", Wording(channel_id, kind, language, "-", actor), 0
            )
        return reset

    async def _audit(self, actor: UserId, action: str, wording: Wording, chars: int) -> None:
        async with self._uow() as tx:
            await tx.audit.append(
                AuditRecord(
                    f"user:{actor}",
                    action,
                    f"channel:{wording.channel_id}",
                    {"kind": wording.kind.value, "language": wording.language, "chars": str(chars)},
                ),
                self._clock.now(),
            )
            await tx.commit()
