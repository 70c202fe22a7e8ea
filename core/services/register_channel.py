"""Register a channel pair, or reclaim one.

The operator's SellerPolicy must let the owner sell here; the owner must be the
creator of both chats (see :mod:`creators`), and the bot must hold the rights it
needs in each (post and delete in the open channel; invite, restrict, post and delete
in the closed one), all checked before anything is stored.

A chat belongs to at most one registered pair. The creator of both chats of a pair
somebody else registered takes it over by registering exactly that pair: ownership
moves to them (audited ``channel.reclaimed``, the previous owner told), and the
channel keeps its id, subscribers, tiers and title. Anyone else meeting a registered
chat is told which pair holds it and who can take it over.
"""

from __future__ import annotations

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, PayoutWallet
from core.domain.errors import AlreadyRegistered, ClosedToSellers, MissingRights, Why
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.outbox import SendMessage
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import Conflict
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.sellers import SellerPolicy
from core.ports.telegram import ChatAccess, ChatGone
from core.services import notices
from core.services.bundles import detach
from core.services.creators import CreatorCheck


@attrs.frozen
class Registration:
    channel: Channel
    reclaimed_from: UserId | None = None
    """The previous owner, when the creator took an existing pair over."""


@attrs.define(eq=False)
class RegisterChannel:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _sellers: SellerPolicy

    async def execute(
        self,
        owner_id: UserId,
        open_chat_id: ChatId,
        closed_chat_id: ChatId,
        title: str,
        payout_wallet: PayoutWallet | None = None,
    ) -> Channel:
        registration = await self.register(
            owner_id, open_chat_id, closed_chat_id, title, payout_wallet
        )
        return registration.channel

    async def ensure_may_sell(self, owner_id: UserId) -> None:
        """Raises ClosedToSellers when the operator does not let ``owner_id`` sell here
        (asked before a step-by-step registration, so nobody answers three questions
        to be refused)."""
        if not await self._sellers.may_sell(owner_id):
            raise ClosedToSellers(Why.CLOSED_TO_SELLERS)

    async def register(
        self,
        owner_id: UserId,
        open_chat_id: ChatId,
        closed_chat_id: ChatId,
        title: str,
        payout_wallet: PayoutWallet | None = None,
    ) -> Registration:
        await self.ensure_may_sell(owner_id)
        now = self._clock.now()
        # Validate the pair before asking Telegram anything.
        channel = Channel(
            id=ChannelId(self._ids.new_id()),
            owner_id=owner_id,
            open_chat_id=open_chat_id,
            closed_chat_id=closed_chat_id,
            title=title.strip(),
            created_at=now,
            payout_wallet=payout_wallet,
        )
        await CreatorCheck(self._chat).ensure_can_register(owner_id, open_chat_id, closed_chat_id)
        for chat, needed, which in (
            (open_chat_id, BOT_RIGHTS_OPEN, "open"),
            (closed_chat_id, BOT_RIGHTS_CLOSED, "closed"),
        ):
            try:
                bot = await self._chat.bot_rights(chat)
            except ChatGone as exc:
                raise MissingRights(Why.BOT_NOT_ADMIN, which=which) from exc
            missing = bot.missing(needed)
            if missing:
                raise MissingRights(Why.BOT_RIGHTS, tuple(str(r) for r in missing), which=which)
        async with self._uow() as tx:
            taken = [
                (which, found)
                for which, chat in (("open", open_chat_id), ("closed", closed_chat_id))
                if (found := await tx.channels.by_chat(chat)) is not None
            ]
            if not taken:
                return Registration(await self._add(tx, channel))
            which, existing = taken[0]
            same_pair = (existing.open_chat_id, existing.closed_chat_id) == (
                open_chat_id,
                closed_chat_id,
            )
            if same_pair and existing.owner_id != owner_id:
                previous = existing.owner_id
                return Registration(await self._reclaim(tx, existing, channel), previous)
        raise await self._taken(owner_id, which, existing)

    async def _add(self, tx: UnitOfWork, channel: Channel) -> Channel:
        try:
            await tx.channels.add(channel)
            await tx.audit.append(
                AuditRecord(
                    f"user:{channel.owner_id}",
                    "channel.registered",
                    f"channel:{channel.id}",
                    {"open": str(channel.open_chat_id), "closed": str(channel.closed_chat_id)},
                ),
                channel.created_at,
            )
            await tx.commit()
        except Conflict as exc:
            raise AlreadyRegistered(Why.REGISTERED_MEANWHILE) from exc
        return channel

    async def _reclaim(self, tx: UnitOfWork, existing: Channel, asked: Channel) -> Channel:
        """The creator of both chats takes the pair over from whoever registered it."""
        now = asked.created_at
        previous = existing.owner_id
        existing.transfer_to(asked.owner_id, asked.payout_wallet)
        await detach(tx, existing, now)
        await tx.channels.update(existing)
        await tx.outbox.enqueue(
            f"reclaimed:{existing.id}:{now.isoformat()}",
            SendMessage(ChatId(previous), notices.channel_reclaimed_message(existing.title)),
            now,
        )
        await tx.audit.append(
            AuditRecord(
                f"user:{asked.owner_id}",
                "channel.reclaimed",
                f"channel:{existing.id}",
                {"from": str(previous), "to": str(asked.owner_id)},
            ),
            now,
        )
        await tx.commit()
        return existing

    async def _taken(self, owner_id: UserId, which: str, existing: Channel) -> AlreadyRegistered:
        if existing.owner_id == owner_id:
            return AlreadyRegistered(Why.TAKEN_BY_YOU, which=which, title=existing.title)
        pair = {"which": which, "open": existing.open_chat_id, "closed": existing.closed_chat_id}
        missing = [
            chat
            for chat in (existing.open_chat_id, existing.closed_chat_id)
            if not await CreatorCheck(self._chat).is_creator(owner_id, chat)
        ]
        if not missing:
            return AlreadyRegistered(Why.TAKEN_YOU_CREATED, **pair)
        return AlreadyRegistered(Why.TAKEN_BY_OTHER, chat=missing[0], **pair)
