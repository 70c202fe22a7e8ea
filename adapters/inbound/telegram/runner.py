"""Running the bot: long polling for ``paygate bot`` on hosts without a public URL,
or webhook mode, where the HTTP app hands each update to
:meth:`BotRunner.handle_webhook_update`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from telegram import Update

from adapters.inbound.telegram.application import ALLOWED_UPDATES, BotApplication
from core.ports.errors import Unavailable
from core.ports.security import NonceStore

logger = logging.getLogger("paygate.bot")

# Every logger that may print a request URL, which carries the bot token (httpx at
# INFO: "HTTP Request: POST https://api.telegram.org/bot<token>/getUpdates"), or an
# error raised by the HTTP layer. A logger's filters see only its own records, so
# each is named here.
_TOKEN_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "telegram.ext.ConversationHandler",
    "telegram.ext.JobQueue",
    "paygate.bot",
)

UPDATE_SCOPE = "telegram-update"


class RedactToken(logging.Filter):
    """Replaces the bot token in a log record's message and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<bot-token>")
            record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, "<bot-token>")
        return True


class BotRunner:
    """Starts and stops the Application in one of its two modes.

    ``seen_updates`` (the NonceStore) drops an update Telegram delivers again to the
    webhook (it resends when an answer is slow) once it was handled; it is marked only
    after handling, so an update whose handling failed is handled when resent. The
    handlers are idempotent anyway, so a store outage only lets a repeat through."""

    def __init__(
        self,
        application: BotApplication,
        *,
        seen_updates: NonceStore | None = None,
        poll_timeout: timedelta = timedelta(seconds=10),
        remember_updates_for: timedelta = timedelta(hours=24),
    ) -> None:
        self._app = application
        self._seen = seen_updates
        self._poll_timeout = poll_timeout
        self._remember_for = int(remember_updates_for.total_seconds())
        self._redaction = RedactToken(application.bot.token)

    @property
    def application(self) -> BotApplication:
        return self._app

    async def _start(self) -> None:
        for name in _TOKEN_LOGGERS:
            logging.getLogger(name).addFilter(self._redaction)
        await self._app.initialize()  # a no-op once done
        # Started already when an earlier attempt failed past this point (Telegram
        # dropped between getMe and getUpdates): a retry goes on from here.
        if not self._app.running:
            await self._app.start()

    async def start_polling(self, *, drop_pending_updates: bool = False) -> None:
        """Long polling (getUpdates) for exactly :data:`ALLOWED_UPDATES`; removes a
        webhook if one was set."""
        updater = self._app.updater
        if updater is None:
            raise RuntimeError("this bot was built for webhook mode (webhook=True)")
        await self._start()
        await updater.start_polling(
            timeout=self._poll_timeout,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending_updates,
        )
        logger.info("bot polling for updates")

    async def start_webhook(
        self,
        url: str,
        secret_token: str,
        *,
        drop_pending_updates: bool = False,
        max_connections: int = 40,
    ) -> None:
        """Ask Telegram to push :data:`ALLOWED_UPDATES` to ``url`` with ``secret_token``
        in the X-Telegram-Bot-Api-Secret-Token header (the HTTP app checks it)."""
        await self.start_for_webhook()
        await self.set_webhook(
            url,
            secret_token,
            drop_pending_updates=drop_pending_updates,
            max_connections=max_connections,
        )

    async def start_for_webhook(self) -> None:
        """Ready to handle pushed updates; :meth:`set_webhook` once they can arrive."""
        await self._start()

    async def set_webhook(
        self,
        url: str,
        secret_token: str,
        *,
        drop_pending_updates: bool = False,
        max_connections: int = 40,
    ) -> None:
        """Register the webhook: Telegram starts pushing (pending updates first), so
        the server at ``url`` must already listen."""
        await self._app.bot.set_webhook(
            url,
            secret_token=secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=max_connections,
            drop_pending_updates=drop_pending_updates,
        )
        logger.info("bot webhook set")

    async def handle_webhook_update(self, data: Mapping[str, Any]) -> None:
        """One update as Telegram posted it, already authenticated by the HTTP app.

        Handled before returning, so a crash mid-way means no 200 and Telegram sends
        it again. A malformed update is logged and dropped: answering an error would
        only make Telegram resend it forever."""
        try:
            update = Update.de_json(dict(data), self._app.bot)
            if not isinstance(update.update_id, int):
                raise TypeError("update_id is not an integer")
        except Exception as exc:  # PTB's parsers raise whatever the odd field provokes
            logger.warning("dropped a malformed Telegram update (%s)", type(exc).__name__)
            return
        if await self._handled_before(update.update_id):
            logger.info("update %s was delivered again; handled once", update.update_id)
            return
        processor = self._app.update_processor
        await processor.process_update(update, self._app.process_update(update))
        await self._mark_handled(update.update_id)

    async def _handled_before(self, update_id: int) -> bool:
        if self._seen is None:
            return False
        try:
            return await self._seen.seen(UPDATE_SCOPE, str(update_id))
        except Unavailable:
            return False

    async def _mark_handled(self, update_id: int) -> None:
        if self._seen is None:
            return
        try:
            await self._seen.remember(UPDATE_SCOPE, str(update_id), self._remember_for)
        except Unavailable:
            logger.warning("update %s handled but not marked seen", update_id)

    async def stop(self) -> None:
        """Stop taking updates, finish what is in flight, close the HTTP pool. The
        webhook stays set: other processes may still be serving it."""
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()
        for name in _TOKEN_LOGGERS:
            logging.getLogger(name).removeFilter(self._redaction)
