"""The bot's multi-step exchanges (a donation's typed amount, /register) as ONE
ConversationHandler, so a person is in at most one of them: starting one replaces
the other, and a typed amount can never be read as a channel name or the reverse.

Each part brings its entry points and states and knows how to cancel and time out;
``user_data[ACTIVE]`` names the part in progress, for /cancel and the timeout.
The state lives in this process's memory (python-telegram-bot keeps it): a bot
restart forgets an unfinished conversation, which the person simply starts again.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, TypeHandler, filters
from telegram.warnings import PTBUserWarning

from adapters.inbound.telegram import texts
from adapters.inbound.telegram.errors import guarded
from adapters.inbound.telegram.replies import Context, reply

Handler = BaseHandler[Update, Context, object]

ACTIVE = "conversation"
"""user_data key naming the conversation in progress."""


def user_data(context: Context) -> dict[Any, Any]:
    # None only for updates without a user, which never reach a conversation.
    return context.user_data if context.user_data is not None else {}


class ConversationPart(Protocol):
    @property
    def name(self) -> str:
        """What the part writes in ``user_data[ACTIVE]`` when it starts."""
        ...

    def entry_points(self) -> list[Handler]: ...

    def states(self) -> dict[object, list[Handler]]: ...

    async def cancel(self, update: Update, context: Context) -> object: ...

    async def timed_out(self, update: object, context: Context) -> None: ...


def one_conversation(
    parts: Sequence[ConversationPart], timeout: timedelta
) -> ConversationHandler[Context]:
    by_name = {part.name: part for part in parts}

    def active(context: Context) -> ConversationPart | None:
        return by_name.get(user_data(context).get(ACTIVE, ""))

    async def cancel(update: Update, context: Context) -> object:
        part = active(context)
        if part is None:
            await reply(update, context, texts.NOTHING_TO_CANCEL)
            return ConversationHandler.END
        user_data(context).pop(ACTIVE, None)
        return await part.cancel(update, context)

    async def timed_out(update: object, context: Context) -> None:
        part = active(context)
        user_data(context).pop(ACTIVE, None)
        if part is not None:
            await part.timed_out(update, context)

    states: dict[object, list[Handler]] = {}
    for part in parts:
        states.update(part.states())
    states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, timed_out)]
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button press is tracked per chat, not
        # per message: one conversation per private chat is exactly what we want.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[handler for part in parts for handler in part.entry_points()],
            states=states,
            fallbacks=[
                CommandHandler(
                    "cancel", guarded(cancel, ConversationHandler.END), filters.ChatType.PRIVATE
                )
            ],
            allow_reentry=True,
            conversation_timeout=timeout,
            name="conversation",
        )
