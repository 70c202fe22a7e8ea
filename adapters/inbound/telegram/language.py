"""The language the bot speaks: to each person their own (``/language``, else what
their Telegram app reports), and in each channel the owner's choice for its posts
(``/language <channel> <code>``).

:meth:`LanguageHandlers.speak` runs before every other handler (its own group) and
sets the catalog's language for the rest of the update, so every answer, error
included, is in the person's language. Notices sent later through the outbox are
rendered in the language the chat reads then (see
:func:`adapters.catalog.notices.render_for`).
"""

from __future__ import annotations

import logging

from telegram import Update

from adapters.catalog import texts
from adapters.catalog.language import activate, current, menu, name_of, speaking, supported
from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.menus import publish_owner_menu
from adapters.inbound.telegram.parsing import BadInput
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context, reply
from core.domain.ids import ChatId, UserId
from core.ports.errors import Unavailable
from core.ports.languages import ChatLanguage

logger = logging.getLogger("paygate.bot")


def spoken(held: ChatLanguage | None, telegram_code: str | None) -> str | None:
    """What a person reads: their choice, else what their Telegram app reports now,
    else what it reported before; None leaves the catalog's default."""
    if held is not None and held.chosen:
        return held.language
    return supported(telegram_code) or (held.language if held is not None else None)


class LanguageHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews) -> None:
        self._deps = deps
        self._views = views

    async def speak(self, update: Update, context: Context) -> None:
        """Every update: the sender's language for everything the bot answers, and
        Telegram's ``language_code`` noted for what the outbox sends them later."""
        user = update.effective_user
        if user is None:
            return
        code = supported(user.language_code)
        book = self._deps.languages
        held = None
        if book is not None:
            try:
                held = await book.get(ChatId(user.id))
                if code is not None and (
                    held is None or (not held.chosen and held.language != code)
                ):
                    await book.note(ChatId(user.id), code)
            except Unavailable:
                logger.warning("language book unavailable; answering in the app's language")
        language = spoken(held, code)
        if language is not None:
            activate(language)

    async def language(self, update: Update, context: Context) -> None:
        """``/language`` shows the choices, ``/language es`` chooses for the person,
        ``/language 1 es`` chooses for the posts in channel 1 (its owner only)."""
        user = update.effective_user
        if user is None:
            return
        args = context.args or []
        book = self._deps.languages
        if not args or book is None:
            await reply(update, context, texts.language_menu(name_of(current()), menu()))
            return
        code = supported(args[-1])
        if code is None or len(args) > 2 or args[-1].lower() != code:
            raise BadInput(texts.unknown_language(args[-1], menu()))
        if len(args) == 1:
            await book.choose(ChatId(user.id), code)
            with speaking(code):
                await reply(update, context, texts.language_saved(name_of(code)))
            person = UserId(user.id)
            if person in self._deps.operators or await self._views.owned_by(person):
                await publish_owner_menu(context.bot, self._deps, UserId(user.id))
            return
        number, channel = await self._views.numbered(UserId(user.id), args[0])
        await book.choose(channel.open_chat_id, code)
        await book.choose(channel.closed_chat_id, code)
        saved = texts.channel_language_saved(channel.title, name_of(code), number)
        await reply(update, context, saved)
