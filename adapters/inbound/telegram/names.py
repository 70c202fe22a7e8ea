"""The username each person shows the bot, kept so an owner can find them on the
dashboard by it (``@name``), and erased with the person's data.

:meth:`NameNotes.note` runs on every update (its own group, before the others) and
writes only when a person's username differs from the one this process noted last,
so a person talking to the bot costs one write per process and name change, not one
per update. A store that is down never stops the update.
"""

from __future__ import annotations

import logging

from telegram import Update

from adapters.inbound.telegram.replies import Context
from core.domain.ids import UserId
from core.ports.errors import Unavailable
from core.ports.subscriber_directory import PersonNames, folded_username

logger = logging.getLogger("paygate.bot")

REMEMBERED = 10_000
"""People whose noted name this process remembers (oldest forgotten first)."""


class NameNotes:
    def __init__(self, names: PersonNames) -> None:
        self._names = names
        self._noted: dict[int, str | None] = {}

    async def note(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or user.is_bot:
            return
        username = folded_username(user.username) if user.username else None
        if user.id in self._noted and self._noted[user.id] == username:
            return
        try:
            await self._names.note(UserId(user.id), username)
        except Unavailable:
            logger.warning("username store unavailable; noted on a later update")
            return
        self._noted.pop(user.id, None)
        self._noted[user.id] = username
        if len(self._noted) > REMEMBERED:
            del self._noted[next(iter(self._noted))]
