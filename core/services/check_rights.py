"""The periodic check of the bot's rights in every registered chat.

Sales pause when a post is refused or a ``my_chat_member`` update says the bot lost a
right; they used to resume only on another ``my_chat_member`` update, which never
comes when the rights were never lost (a refused post for another reason, an update
missed while the bot was down). This check asks Telegram (getChatMember on both
chats) and puts each channel where its rights say: a paused channel whose chats are
both in order resumes, a selling one whose rights are gone pauses; the owner is told
and the change audited either way (:class:`ChangeSales`).

Paused channels are checked on every run, so a pause that was a false alarm ends
within one interval. Selling channels normally hear of lost rights from
``my_chat_member``; this check is their backstop, so each is checked only every
``selling_every_runs`` runs, a different slice of them each run (by a stable hash of
the channel id), which spreads the getChatMember calls evenly.
"""

from __future__ import annotations

import zlib

import attrs

from core.domain.channel import Channel
from core.domain.ids import ChatId
from core.domain.rights import (
    BOT_RIGHTS_CLOSED,
    BOT_RIGHTS_OPEN,
    ChatRights,
    MemberStatus,
    Right,
    right_names,
)
from core.ports.errors import Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, ChatGone
from core.services.channel_settings import ChangeSales


@attrs.frozen
class Shortfall:
    """What the bot lacks in one chat of a channel."""

    chat_id: ChatId
    role: str
    """``open`` or ``closed``."""
    status: MemberStatus | None
    """The bot's status there; None when it is not in the chat at all."""
    missing: tuple[Right, ...]

    @property
    def reason(self) -> str:
        """Why sales pause, as the owner reads it."""
        if self.status is None:
            return f"the bot is not in the {self.role} channel any more"
        if self.status not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            return f"the bot is no longer an admin of the {self.role} channel"
        return f"the bot lost its right to {right_names(self.missing)} in the {self.role} channel"


async def bot_shortfalls(chat_access: ChatAccess, channel: Channel) -> tuple[Shortfall, ...]:
    """What the bot lacks in each chat of ``channel`` (empty: both are in order).
    Raises Unavailable when Telegram does not answer."""
    found = []
    for chat, role, needed in (
        (channel.open_chat_id, "open", BOT_RIGHTS_OPEN),
        (channel.closed_chat_id, "closed", BOT_RIGHTS_CLOSED),
    ):
        try:
            rights: ChatRights | None = await chat_access.bot_rights(chat)
        except ChatGone:
            rights = None
        if rights is None:
            found.append(Shortfall(chat, role, None, tuple(sorted(needed))))
        elif missing := rights.missing(needed):
            found.append(Shortfall(chat, role, rights.status, missing))
    return tuple(found)


@attrs.frozen
class RightsCheckSettings:
    selling_every_runs: int = attrs.field(default=15)
    """A selling channel is checked once in this many runs (15 minutes at the default
    interval of a minute)."""

    @selling_every_runs.validator
    def _positive(self, _: object, value: int) -> None:
        if value < 1:
            raise ValueError("selling_every_runs must be at least 1")


@attrs.frozen
class RightsCheckReport:
    checked: int = 0
    resumed: int = 0
    paused: int = 0
    unreachable: bool = False
    """Telegram did not answer: the channels not checked wait for the next run."""


class CheckRights:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        chat_access: ChatAccess,
        sales: ChangeSales,
        settings: RightsCheckSettings | None = None,
    ) -> None:
        self._uow = uow
        self._chat = chat_access
        self._sales = sales
        self._settings = settings or RightsCheckSettings()
        self._runs = 0

    async def run_once(self) -> RightsCheckReport:
        run = self._runs
        self._runs += 1
        async with self._uow() as tx:
            channels = await tx.channels.all()
        checked = resumed = paused = 0
        for channel in channels:
            if not channel.sales_paused and not self._selling_due(channel, run):
                continue
            try:
                shortfalls = await bot_shortfalls(self._chat, channel)
            except Unavailable:
                # Telegram is down or asks us to wait: asking about the next channel
                # would fare no better.
                return RightsCheckReport(checked, resumed, paused, unreachable=True)
            checked += 1
            if channel.sales_paused and not shortfalls:
                changed = await self._sales.resume_channel(
                    channel.id, paused_for=channel.pause_reason
                )
                resumed += changed is not None
            elif not channel.sales_paused and shortfalls:
                reason = "; ".join(s.reason for s in shortfalls)
                changed = await self._sales.pause_channel(channel.id, reason)
                paused += changed is not None
        return RightsCheckReport(checked, resumed, paused)

    def _selling_due(self, channel: Channel, run: int) -> bool:
        every = self._settings.selling_every_runs
        return zlib.crc32(channel.id.encode()) % every == run % every
