"""The bot's command menus (setMyCommands), per language and per scope: every
private chat gets the subscribers' commands in each language the catalog speaks
(English for every other language), each channel owner's private chat gets the
owners' commands too, and each operator's (``PAYGATE_OPERATOR_IDS``) the operators'
as well, in that person's language.

Published when the bot starts and again when an owner changes their language. A menu
is a convenience: a failure is logged and never stops the bot.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from adapters.catalog import texts
from adapters.catalog.language import DEFAULT, LANGUAGES, speaking
from adapters.inbound.telegram.deps import BotDeps
from core.domain.ids import ChatId, UserId
from core.ports.errors import PortError

logger = logging.getLogger("paygate.bot")


def _commands(entries: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in entries]


async def publish_menus(bot: Bot, deps: BotDeps) -> None:
    """Every menu: the subscribers' per language, then each owner's own."""
    try:
        for language in LANGUAGES:
            with speaking(language):
                await bot.set_my_commands(
                    _commands(texts.subscriber_commands()),
                    scope=BotCommandScopeAllPrivateChats(),
                    # English is the menu for every language without a catalog.
                    language_code=None if language == DEFAULT else language,
                )
        async with deps.uow() as tx:
            owners = {channel.owner_id for channel in await tx.channels.all()}
    except (TelegramError, PortError) as error:
        logger.warning("could not publish the command menus (%s)", type(error).__name__)
        return
    for person in sorted(owners | deps.operators):
        await publish_owner_menu(bot, deps, person)


async def publish_owner_menu(bot: Bot, deps: BotDeps, owner: UserId) -> None:
    """The owners' commands in ``owner``'s private chat, in their language (with the
    operators' too when they are one)."""
    try:
        held = await deps.languages.get(ChatId(owner)) if deps.languages is not None else None
        with speaking(held.language if held is not None else DEFAULT):
            entries = (
                texts.operator_commands() if owner in deps.operators else texts.owner_commands()
            )
            await bot.set_my_commands(_commands(entries), scope=BotCommandScopeChat(owner))
    except (TelegramError, PortError) as error:
        # An owner who never opened the bot's chat has no chat to put a menu in yet.
        logger.info("no command menu for owner %s (%s)", owner, type(error).__name__)
