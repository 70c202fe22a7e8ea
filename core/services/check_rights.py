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

A channel whose posts Telegram keeps refusing although getChatMember shows every
right would otherwise flap (paused by the publisher, resumed here, paused again),
telling its owner each time: a channel paused again soon after this check resumed it
waits ``flap_backoff``, then twice that, and so on up to ``max_backoff``, before the
next automatic resume. The owner's /resume and Telegram's own updates are not held
back. This memory is the process's own: a restart starts it afresh.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

import attrs

from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId
from core.domain.pause import PauseCause, PauseReason, encode
from core.domain.rights import (
    BOT_RIGHTS_CLOSED,
    BOT_RIGHTS_OPEN,
    ChatRights,
    MemberStatus,
    Right,
)
from core.ports.clock import Clock
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
    def reason(self) -> PauseReason:
        """Why sales pause (the catalog words it for whoever reads it)."""
        if self.status is None:
            return PauseReason(PauseCause.BOT_ABSENT, self.role)
        if self.status not in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
            return PauseReason(PauseCause.BOT_NOT_ADMIN, self.role)
        return PauseReason(PauseCause.RIGHTS_LOST, self.role, self.missing)


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

    flap_backoff: timedelta = timedelta(minutes=5)
    """How long a channel paused again soon after an automatic resume waits for the
    next one; doubled on every further flap."""
    max_backoff: timedelta = timedelta(hours=6)
    flap_window: timedelta = timedelta(hours=1)
    """A pause within this long after a resume (and its wait) counts as a flap."""

    @selling_every_runs.validator
    def _positive(self, _: object, value: int) -> None:
        if value < 1:
            raise ValueError("selling_every_runs must be at least 1")


def rights_check_settings(given: RightsCheckSettings | None) -> RightsCheckSettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or RightsCheckSettings()


@attrs.frozen
class _Resumed:
    at: datetime
    flaps: int


@attrs.frozen
class RightsCheckReport:
    checked: int = 0
    resumed: int = 0
    paused: int = 0
    unreachable: bool = False
    """Telegram did not answer: the channels not checked wait for the next run."""


@attrs.define(eq=False)
class CheckRights:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _sales: ChangeSales
    _settings: RightsCheckSettings = attrs.field(default=None, converter=rights_check_settings)
    _runs: int = attrs.field(init=False, default=0)
    _resumed: dict[ChannelId, _Resumed] = attrs.field(init=False, factory=dict)

    async def run_once(self) -> RightsCheckReport:
        run = self._runs
        self._runs += 1
        now = self._clock.now()
        self._forget_old_resumes(now)
        async with self._uow() as tx:
            channels = await tx.channels.all()
        checked = resumed = paused = 0
        for channel in channels:
            if channel.sales_paused:
                if self._held(channel.id, now):
                    continue
            elif not self._selling_due(channel, run):
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
                if changed is not None:
                    resumed += 1
                    self._remember_resume(channel.id, now)
            elif not channel.sales_paused and shortfalls:
                reason = encode([s.reason for s in shortfalls])
                changed = await self._sales.pause_channel(channel.id, reason)
                paused += changed is not None
        return RightsCheckReport(checked, resumed, paused)

    def _wait(self, flaps: int) -> timedelta:
        if flaps == 0:
            return timedelta(0)
        settings = self._settings
        # The shift is capped: past the cap the wait is max_backoff anyway.
        return min(settings.flap_backoff * (1 << min(flaps - 1, 30)), settings.max_backoff)

    def _held(self, channel_id: ChannelId, now: datetime) -> bool:
        last = self._resumed.get(channel_id)
        return last is not None and now < last.at + self._wait(last.flaps)

    def _remember_resume(self, channel_id: ChannelId, now: datetime) -> None:
        last = self._resumed.get(channel_id)
        flapping = (
            last is not None
            and now - last.at <= self._wait(last.flaps) + self._settings.flap_window
        )
        flaps = last.flaps + 1 if last is not None and flapping else 0
        self._resumed[channel_id] = _Resumed(now, flaps)

    def _forget_old_resumes(self, now: datetime) -> None:
        horizon = self._settings.max_backoff + self._settings.flap_window
        for channel_id, last in list(self._resumed.items()):
            if now - last.at > horizon:
                del self._resumed[channel_id]

    def _selling_due(self, channel: Channel, run: int) -> bool:
        every = self._settings.selling_every_runs
        return zlib.crc32(channel.id.encode()) % every == run % every
