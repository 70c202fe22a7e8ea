"""Owner settings of a channel: tiers, donation bounds, pausing and resuming sales.
Only the channel's owner may change them, and only while they are still the creator
of both its chats (see :mod:`creators`); every change is audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, DonationBounds, PayoutWallet
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.outbox import SendMessage
from core.domain.tier import Tier
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services import notices
from core.services.creators import CreatorCheck


async def _owned(tx: UnitOfWork, channel_id: ChannelId, actor: UserId) -> Channel:
    try:
        channel = await tx.channels.get(channel_id)
    except NotFound as exc:
        raise UnknownChannel(Why.NO_SUCH_CHANNEL) from exc
    channel.ensure_owner(actor)
    return channel


async def owned_by_its_creator(
    uow: UnitOfWorkFactory, creators: CreatorCheck, channel_id: ChannelId, actor: UserId
) -> Channel:
    """The channel, if ``actor`` owns it and still created both of its chats. Telegram
    is asked outside any transaction; the caller re-reads the channel in its own."""
    async with uow() as tx:
        channel = await _owned(tx, channel_id, actor)
    await creators.ensure_still_creator(actor, channel.open_chat_id, channel.closed_chat_id)
    return channel


@attrs.define(eq=False)
class SetTiers:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _creators: CreatorCheck = attrs.field(alias="chat_access", converter=CreatorCheck)

    async def execute(
        self, actor: UserId, channel_id: ChannelId, tiers: tuple[Tier, ...]
    ) -> Channel:
        await owned_by_its_creator(self._uow, self._creators, channel_id, actor)
        async with self._uow() as tx:
            channel = await _owned(tx, channel_id, actor)
            channel.set_tiers(tiers)
            await tx.channels.update(channel)
            await tx.audit.append(
                AuditRecord(
                    f"user:{actor}",
                    "channel.tiers_set",
                    f"channel:{channel.id}",
                    {f"tier{t.number}": f"{t.price} / {t.duration_days}d" for t in channel.tiers},
                ),
                self._clock.now(),
            )
            await tx.commit()
            return channel


@attrs.define(eq=False)
class SetDonationBounds:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _creators: CreatorCheck = attrs.field(alias="chat_access", converter=CreatorCheck)

    async def execute(
        self, actor: UserId, channel_id: ChannelId, bounds: DonationBounds | None
    ) -> Channel:
        await owned_by_its_creator(self._uow, self._creators, channel_id, actor)
        async with self._uow() as tx:
            channel = await _owned(tx, channel_id, actor)
            channel.set_donation_bounds(bounds)
            await tx.channels.update(channel)
            details = (
                {} if bounds is None else {"min": str(bounds.minimum), "max": str(bounds.maximum)}
            )
            await tx.audit.append(
                AuditRecord(
                    f"user:{actor}", "channel.donations_set", f"channel:{channel.id}", details
                ),
                self._clock.now(),
            )
            await tx.commit()
            return channel


@attrs.define(eq=False)
class SetPayoutWallet:
    """The owner sets (or clears, with None) where the channel's takings are paid.
    Stored encrypted; the audit keeps only the currency and a masked address."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _creators: CreatorCheck = attrs.field(alias="chat_access", converter=CreatorCheck)

    async def execute(
        self, actor: UserId, channel_id: ChannelId, wallet: PayoutWallet | None
    ) -> Channel:
        await owned_by_its_creator(self._uow, self._creators, channel_id, actor)
        async with self._uow() as tx:
            channel = await _owned(tx, channel_id, actor)
            channel.set_payout_wallet(wallet)
            await tx.channels.update(channel)
            details = {} if wallet is None else {"wallet": wallet.masked()}
            await tx.audit.append(
                AuditRecord(
                    f"user:{actor}", "channel.payout_wallet_set", f"channel:{channel.id}", details
                ),
                self._clock.now(),
            )
            await tx.commit()
            return channel


_Find = Callable[[UnitOfWork], Awaitable[Channel | None]]


@attrs.define(eq=False)
class ChangeSales:
    """Pause sales when the bot loses its rights in a chat (``my_chat_member``, a post
    Telegram refused, the periodic rights check), resume them when the rights are back.
    The owner is told either way. Returns the channel if its state changed."""

    _uow: UnitOfWorkFactory
    _clock: Clock

    async def pause(self, chat_id: ChatId, reason: str) -> Channel | None:
        return await self._pause(lambda tx: tx.channels.by_chat(chat_id), reason)

    async def pause_channel(
        self, channel_id: ChannelId, reason: str, actor: UserId | None = None
    ) -> Channel | None:
        """Pause by the system or, with ``actor``, by a person (the owner's dashboard)."""
        return await self._pause(lambda tx: _get(tx, channel_id), reason, actor)

    async def resume(self, chat_id: ChatId) -> Channel | None:
        return await self._resume(lambda tx: tx.channels.by_chat(chat_id), None, None)

    async def resume_channel(
        self,
        channel_id: ChannelId,
        actor: UserId | None = None,
        *,
        paused_for: str | None = None,
        reason: str | None = None,
    ) -> Channel | None:
        """Resume by the owner (``actor``) or the system. With ``paused_for``, only a
        channel still paused for that reason: a pause that came in while the caller
        was asking Telegram stands (the caller's answer may predate it)."""
        return await self._resume(lambda tx: _get(tx, channel_id), actor, paused_for, reason)

    async def _pause(self, find: _Find, reason: str, actor: UserId | None = None) -> Channel | None:
        async with self._uow() as tx:
            channel = await find(tx)
            if channel is None or channel.sales_paused:
                return None
            now = self._clock.now()
            channel.pause_sales(reason)
            await tx.channels.update(channel)
            await tx.outbox.enqueue(
                f"paused:{channel.id}:{now.isoformat()}",
                SendMessage(
                    ChatId(channel.owner_id), notices.sales_paused_message(channel.title, reason)
                ),
                now,
            )
            await tx.audit.append(
                AuditRecord(
                    "system" if actor is None else f"user:{actor}",
                    "channel.paused",
                    f"channel:{channel.id}",
                    {"reason": reason},
                ),
                now,
            )
            await tx.commit()
            return channel

    async def _resume(
        self,
        find: _Find,
        actor: UserId | None,
        paused_for: str | None,
        reason: str | None = None,
    ) -> Channel | None:
        async with self._uow() as tx:
            channel = await find(tx)
            if channel is None or not channel.sales_paused:
                return None
            if paused_for is not None and channel.pause_reason != paused_for:
                return None
            now = self._clock.now()
            channel.resume_sales()
            await tx.channels.update(channel)
            await tx.outbox.enqueue(
                f"resumed:{channel.id}:{now.isoformat()}",
                SendMessage(ChatId(channel.owner_id), notices.sales_resumed_message(channel.title)),
                now,
            )
            who = "system" if actor is None else f"user:{actor}"
            details = {} if reason is None else {"reason": reason}
            await tx.audit.append(
                AuditRecord(who, "channel.resumed", f"channel:{channel.id}", details), now
            )
            await tx.commit()
            return channel


async def _get(tx: UnitOfWork, channel_id: ChannelId) -> Channel | None:
    try:
        return await tx.channels.get(channel_id)
    except NotFound:
        return None
