"""``/dashboard``: a channel owner or an operator gets a ``login_url`` button that
opens the web dashboard logged in (Telegram appends their identity, signed with the
bot's token); anyone else a polite answer and no link."""

from __future__ import annotations

from telegram import Update

from adapters.catalog import texts
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.replies import Context, reply
from core.domain.ids import UserId


class DashboardHandlers:
    def __init__(self, deps: BotDeps) -> None:
        self._deps = deps

    async def dashboard(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        login_url = self._deps.dashboard_login_url
        if login_url is None:
            await reply(update, context, texts.dashboard_off())
            return
        if not await self._may_log_in(UserId(user.id)):
            await reply(update, context, texts.dashboard_not_owner())
            return
        await reply(update, context, texts.dashboard_login(login_url))

    async def _may_log_in(self, user_id: UserId) -> bool:
        """The dashboard admits the same people (OwnerDashboard.admit): an operator, or
        the owner of a channel."""
        if user_id in self._deps.operators:
            return True
        async with self._deps.uow() as tx:
            return bool(await tx.channels.by_owner(user_id))
