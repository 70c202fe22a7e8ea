"""One initialised bot for the Telegram adapters: PTB's ExtBot over our transport
(circuit breaker) and our pacing, pointed at ``api_url``."""

from __future__ import annotations

import logging

from telegram.error import TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.telegram.errors import translate
from adapters.outbound.telegram.pacing import PacedRateLimiter
from adapters.outbound.telegram.transport import BreakerRequest

__all__ = ["DEFAULT_API_URL", "TelegramBotClient"]

DEFAULT_API_URL = "https://api.telegram.org"

# Loggers that print request URLs, which carry the bot token: httpx at INFO
# ("HTTP Request: POST https://api.telegram.org/bot<token>/sendMessage"), PTB at DEBUG.
_URL_LOGGERS = ("httpx", "telegram.Bot", "telegram.ext.ExtBot")


class _RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<bot-token>")
            record.args = ()
        return True


class TelegramBotClient:
    """Owns the bot's HTTP pool, breaker and pacing; use as an async context manager
    (or ``start``/``stop``) around the adapters that share it.

    ``api_url`` is the Bot API root (``https://api.telegram.org``, or an emulator's
    base URL); the bot calls ``{api_url}/bot<token>/<method>``."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        limiter: PacedRateLimiter | None = None,
        breaker: CircuitBreaker | None = None,
        read_timeout: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._limiter = limiter or PacedRateLimiter()
        self._breaker = breaker or CircuitBreaker("telegram", call_timeout=read_timeout + 5.0)
        pool = self._limiter.limits.max_concurrency
        http = HTTPXRequest(
            connection_pool_size=pool,
            read_timeout=read_timeout,
            write_timeout=read_timeout,
            connect_timeout=connect_timeout,
            # The limiter already holds calls until a connection is free; waiting for
            # the pool here would only be a second, shorter queue.
            pool_timeout=read_timeout,
        )
        root = api_url.rstrip("/")
        self._redaction = _RedactToken(token)
        self._redact_logs()  # ExtBot logs its URLs, token included, as it is built
        self.bot: ExtBot[None] = ExtBot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=BreakerRequest(self._breaker, http),
            rate_limiter=self._limiter,
        )
        self._started = False

    @property
    def limiter(self) -> PacedRateLimiter:
        return self._limiter

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def bot_id(self) -> int:
        return self.bot.id

    async def start(self) -> None:
        """Open the HTTP pool and learn who the bot is (getMe). Raises Unavailable."""
        if self._started:
            return
        self._redact_logs()
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            await self.stop()
            raise translate(exc, 0) from exc
        self._started = True

    def _redact_logs(self) -> None:
        for name in _URL_LOGGERS:
            logging.getLogger(name).addFilter(self._redaction)  # adding twice is a no-op

    async def stop(self) -> None:
        await self.bot.shutdown()
        for name in _URL_LOGGERS:
            logging.getLogger(name).removeFilter(self._redaction)
        self._started = False

    async def __aenter__(self) -> TelegramBotClient:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
