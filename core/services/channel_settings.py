"""Owner settings of a channel: tiers, donation bounds, pausing and resuming sales.
Only the channel's owner may change them; every change is audited."""

from __future__ import annotations

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, DonationBounds
from core.domain.errors import UnknownChannel
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.outbox import SendMessage
from core.domain.tier import Tier
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services import notices


async def _owned(tx: UnitOfWork, channel_id: ChannelId, actor: UserId) -> Channel:
    try:
        channel = await tx.channels.get(channel_id)
    except NotFound as exc:
        raise UnknownChannel("no such channel") from exc
    channel.ensure_owner(actor)
    return channel


class SetTiers:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, actor: UserId, channel_id: ChannelId, tiers: tuple[Tier, ...]
    ) -> Channel:
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


class SetDonationBounds:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, actor: UserId, channel_id: ChannelId, bounds: DonationBounds | None
    ) -> Channel:
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


class ChangeSales:
    """Pause sales when the bot loses its rights in a chat (``my_chat_member``), resume
    them when the rights are back. Returns the channel if its state changed."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def pause(self, chat_id: ChatId, reason: str) -> Channel | None:
        async with self._uow() as tx:
            channel = await tx.channels.by_chat(chat_id)
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
                    "system", "channel.paused", f"channel:{channel.id}", {"reason": reason}
                ),
                now,
            )
            await tx.commit()
            return channel

    async def resume(self, chat_id: ChatId) -> Channel | None:
        async with self._uow() as tx:
            channel = await tx.channels.by_chat(chat_id)
            if channel is None or not channel.sales_paused:
                return None
            channel.resume_sales()
            await tx.channels.update(channel)
            await tx.audit.append(
                AuditRecord("system", "channel.resumed", f"channel:{channel.id}"), self._clock.now()
            )
            await tx.commit()
            return channel
