"""Register a channel pair.

The owner must be the creator or an admin of both chats, and the bot must hold the
rights it needs in each (post and delete in the open channel; invite, restrict, post
and delete in the closed one), checked through ChatAccess before anything is stored.
A chat belongs to at most one registered pair.
"""

from __future__ import annotations

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, PayoutWallet
from core.domain.errors import AlreadyRegistered, MissingRights
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, Right
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import Conflict
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, ChatGone


class RegisterChannel:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, chat_access: ChatAccess
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._chat = chat_access

    async def execute(
        self,
        owner_id: UserId,
        open_chat_id: ChatId,
        closed_chat_id: ChatId,
        title: str,
        payout_wallet: PayoutWallet | None = None,
    ) -> Channel:
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
        for chat, needed, which in (
            (open_chat_id, BOT_RIGHTS_OPEN, "open"),
            (closed_chat_id, BOT_RIGHTS_CLOSED, "closed"),
        ):
            owner = await self._rights(chat, owner_id, which)
            if not owner.is_admin:
                raise MissingRights(f"you must be the creator or an admin of the {which} channel")
            bot = await self._rights(chat, None, which)
            missing = bot.missing(needed)
            if missing:
                raise MissingRights(
                    f"make the bot an admin of the {which} channel with: {_names(missing)}",
                    tuple(str(r) for r in missing),
                )
        async with self._uow() as tx:
            for chat in (open_chat_id, closed_chat_id):
                if await tx.channels.by_chat(chat) is not None:
                    raise AlreadyRegistered(f"chat {chat} is already part of a registered channel")
            try:
                await tx.channels.add(channel)
                await tx.audit.append(
                    AuditRecord(
                        f"user:{owner_id}",
                        "channel.registered",
                        f"channel:{channel.id}",
                        {"open": str(open_chat_id), "closed": str(closed_chat_id)},
                    ),
                    now,
                )
                await tx.commit()
            except Conflict as exc:
                raise AlreadyRegistered("one of these chats was registered meanwhile") from exc
        return channel

    async def _rights(self, chat: ChatId, user: UserId | None, which: str) -> ChatRights:
        try:
            if user is None:
                return await self._chat.bot_rights(chat)
            return await self._chat.rights(chat, user)
        except ChatGone as exc:
            raise MissingRights(f"add the bot as an admin of the {which} channel first") from exc


def _names(rights: tuple[Right, ...]) -> str:
    return ", ".join(r.value.removeprefix("can_").replace("_", " ") for r in rights)
