"""What the deployment's operators do in the bot: ``/owners`` lists every channel
owner, their channels and each channel's status; Approve and Decline under a request
to sell (``PAYGATE_SELLERS=approval``) decide it. Anyone else is told politely that
the command is not theirs, and sees nothing."""

from __future__ import annotations

from telegram import Update

from adapters.catalog import texts
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.parsing import seller_decision_from
from adapters.inbound.telegram.replies import Context, answer, replace, reply
from core.domain.ids import UserId


class OperatorHandlers:
    def __init__(self, deps: BotDeps) -> None:
        self._deps = deps

    async def owners(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        if UserId(user.id) not in self._deps.operators:
            await reply(update, context, texts.not_an_operator())
            return
        async with self._deps.uow() as tx:
            channels = await tx.channels.all()
        await reply(update, context, texts.owners(channels))

    async def decide_seller(self, update: Update, context: Context) -> None:
        """Approve (``sa:<user id>``) or Decline (``sd:<user id>``) under a request to
        sell: the request is settled, the person told, and the message shows who
        decided. Its buttons go, so nobody presses them twice by mistake."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        requests = self._deps.seller_requests
        operator = query.from_user.id
        if requests is None or UserId(operator) not in self._deps.operators:
            await answer(query, texts.not_an_operator_button(), alert=True)
            return
        user, approve = seller_decision_from(query.data)
        decision = await requests.decide(UserId(operator), UserId(user), approve)
        await replace(query, context, texts.seller_decided(decision, operator))
        await answer(query)
