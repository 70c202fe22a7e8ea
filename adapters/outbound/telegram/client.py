"""One initialised bot for the Telegram adapters: PTB's ExtBot over our transport
(circuit breaker) and our pacing, pointed at ``api_url``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from adapters.outbound.breaker import BreakerState, CircuitBreaker
from adapters.outbound.outage import OutageNotice
from adapters.outbound.telegram.errors import translate
from adapters.outbound.telegram.pacing import PacedRateLimiter
from adapters.outbound.telegram.transport import BreakerRequest, CallObserver
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.errors import Unavailable

__all__ = ["DEFAULT_API_URL", "TelegramBotClient"]

DEFAULT_API_URL = "https://api.telegram.org"

# Loggers that print request URLs, which carry the bot token: httpx at INFO
# ("HTTP Request: POST https://api.telegram.org/bot<token>/sendMessage"), PTB at DEBUG.
logger = logging.getLogger(__name__)
UNREACHABLE_ALERT_KEY = "telegram:unreachable"
REACHABLE_ALERT_KEY = "telegram:reachable"
"""Two keys: the alert service folds repeats of one key, never "back" into "lost"."""

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
        observe: CallObserver | None = None,
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
            # ``observe`` counts each call by method and result (metrics).
            request=BreakerRequest(self._breaker, http, observe),
            rate_limiter=self._limiter,
        )
        self._started = False
        # --- degraded, not down (issue 18): an alert when Telegram is lost and back ---
        self._outage = OutageNotice("Telegram reachability")
        """Telegram is lost (at start, or the breaker opened) and not yet back."""
        # After a good start, the breaker opening is how an outage shows.
        self._breaker.listen(self._breaker_moved)

    def report_outages_to(self, alerts: AlertSink) -> None:
        """Where "Telegram unreachable" and "reachable again" go. Set after
        construction (the admin-chat alert channel sends through this client); an
        outage found at start-up is reported now, if it still lasts."""
        self._outage.attach(alerts)

    def _lost(self, error: str) -> None:
        """Once per outage: the "unreachable" alert (kept until alerts are attached)."""
        self._outage.lost(
            Alert(
                severity=Severity.CRITICAL,
                title="Telegram is unreachable: payments are recorded, grants wait",
                key=UNREACHABLE_ALERT_KEY,
                details={"error": error[:200]},
            )
        )

    def _back(self) -> None:
        """Once per outage: the "reachable again" alert."""
        self._outage.back(
            Alert(
                severity=Severity.WARNING,
                title="Telegram is reachable again: the waiting work goes out",
                key=REACHABLE_ALERT_KEY,
            )
        )

    def _breaker_moved(self, name: str, old: BreakerState, new: BreakerState) -> None:
        if new is BreakerState.OPEN and not self._outage.down:
            logger.warning("Telegram stopped answering (circuit %s open)", name)
            self._lost(f"circuit {name} open")
        elif new is BreakerState.CLOSED and self._outage.down and self._started:
            logger.info("Telegram is reachable again (circuit %s closed)", name)
            self._back()

    # --- end degraded, not down

    @property
    def limiter(self) -> PacedRateLimiter:
        return self._limiter

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def bot_id(self) -> int:
        """The bot's user id: getMe's answer, or (before Telegram answered it) the
        token's first part, which Telegram makes the bot's id."""
        if self._started:
            return self.bot.id
        return int(self.bot.token.partition(":")[0])

    @property
    def connected(self) -> bool:
        """Telegram answered getMe since the pool opened."""
        return self._started

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

    async def start_degraded(self) -> bool:
        """Open the HTTP pool and try getMe; False while Telegram is unreachable. The
        pool stays open then: calls fail as Unavailable (queued work waits in the
        outbox, a payment is still recorded) until :meth:`reconnect` gets an answer.
        A refused token is not an outage: it raises like :meth:`start`."""
        if self._started:
            return True
        self._redact_logs()
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            error = translate(exc, 0)
            if isinstance(exc, InvalidToken) or not isinstance(error, Unavailable):
                await self.stop()
                raise error from exc
            logger.warning("Telegram is unreachable at start (%s); starting degraded", error)
            self._lost(str(error))
            return False
        self._started = True
        return True

    async def reconnect(
        self,
        *,
        first_pause: float = 1.0,
        longest_pause: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Ask getMe with pauses doubling from ``first_pause`` to ``longest_pause``
        until Telegram answers (cancel to give up). Logs the outage once and the
        recovery once, not every attempt."""
        pause = first_pause
        while not self._started:
            await sleep(pause)
            try:
                await self.bot.initialize()
            except InvalidToken:
                # Telegram answers again but refuses this token: say so, keep asking
                # (a corrected token needs a restart; the outage may be a proxy's).
                logger.error("Telegram refuses PAYGATE_TELEGRAM_BOT_TOKEN; check the token")
                pause = longest_pause
                continue
            except TelegramError as exc:
                logger.debug("Telegram still unreachable: %s", translate(exc, 0))
                pause = min(pause * 2, longest_pause)
                continue
            self._started = True
            logger.info("Telegram is reachable again (bot @%s)", self.bot.username)
            self._back()

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
