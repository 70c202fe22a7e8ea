"""What the deployment's operators do in the bot: ``/owners`` lists every channel
owner, their channels and each channel's status. Anyone else is told politely that
the command is not theirs, and sees nothing."""

from __future__ import annotations

from telegram import Update

from adapters.inbound.telegram import operator_texts
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.replies import Context, reply
from core.domain.ids import UserId


class OperatorHandlers:
    def __init__(self, deps: BotDeps) -> None:
        self._deps = deps

    async def owners(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        if UserId(user.id) not in self._deps.operators:
            await reply(update, context, operator_texts.NOT_AN_OPERATOR)
            return
        async with self._deps.uow() as tx:
            channels = await tx.channels.all()
        await reply(update, context, operator_texts.owners(channels))
