"""Battery targets that need something running: the real bot (python-telegram-bot
Application and our handlers) fed hostile updates as the webhook would hand them
over, and the real HTTP app on a loopback socket fed hostile requests.

Hypothesis draws in a worker thread (``asyncio.to_thread(hammer, ...)``); each input
is judged on the event loop that runs the bot or the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st

from adapters.inbound.http import TelegramWebhook, build_app
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from core.domain.ids import UserId
from core.ports.security import Secret
from tests.contract.bot.harness import polling_bot
from tests.contract.http.shop import Shop, make_deps, serve, signed
from tests.hostile.battery import Finding, Target, crash
from tests.hostile.inputs import hostile_bodies, telegram_updates

__all__ = ["bot_updates", "http_edge"]

T = TypeVar("T")
WAIT = 20.0
TELEGRAM_SECRET = "battery-telegram-secret"
KINDS = frozenset(
    {"message", "callback_query", "chat_join_request", "my_chat_member", "chat_member"}
    | {"pre_checkout_query"}
)


class _Errors(logging.Handler):
    """Every ERROR record logged while the battery runs: an update that "failed" is
    the bot's way of saying a handler raised something it did not expect."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _on(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(WAIT)


@asynccontextmanager
async def bot_updates() -> AsyncIterator[Target]:
    """The bot's handlers on hostile updates: each is handled or dropped, and none
    ends in an unexpected exception (an ERROR record) or escapes the runner."""
    loop = asyncio.get_running_loop()
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        async with polling_bot() as bot:

            async def handle(update: dict[str, Any]) -> None:
                await bot.runner.handle_webhook_update(update)
                await bot.idle()

            def judge(update: dict[str, Any]) -> list[str]:
                seen = len(errors.records)
                try:
                    _on(loop, handle(update))
                except Exception as error:
                    raise crash(update, error) from error
                if len(errors.records) > seen:
                    record = errors.records[seen]
                    raise Finding(
                        "crash",
                        f"{record.getMessage()} ({record.exc_info and record.exc_info[1]!r})"
                        f" on {update!r:.300}",
                    )
                kinds = [k for k in update if k in KINDS]
                return [f"handled {kinds[0] if kinds else 'unknown kind'}"]

            yield Target("Telegram updates to the bot", telegram_updates, judge)
    finally:
        logging.getLogger().removeHandler(errors)


@attrs.frozen
class _Request:
    path: str
    headers: dict[str, str]
    body: bytes


_requests = st.builds(
    _Request,
    st.sampled_from(["/webhooks/nowpayments", "/webhooks/telegram"]),
    st.dictionaries(
        st.sampled_from(
            [
                "x-nowpayments-sig",
                "X-Telegram-Bot-Api-Secret-Token",
                "Content-Type",
                "Content-Encoding",
                "X-Forwarded-For",
                "Transfer-Encoding",
                "Expect",
            ]
        ),
        st.one_of(
            st.sampled_from([TELEGRAM_SECRET, "application/json", "gzip", "f" * 128, "chunked"]),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
        ),
        max_size=4,
    ),
    hostile_bodies,
)


@asynccontextmanager
async def http_edge(shop: Shop, gateway: NowPaymentsGateway) -> AsyncIterator[Target]:
    """The HTTP app on a socket: no hostile request gets a 5xx, an IPN without our
    signature never a 200, and the genuine one still goes through afterwards."""
    loop = asyncio.get_running_loop()

    async def accept(update: object) -> None:
        return None

    deps = make_deps(shop, gateway, telegram=TelegramWebhook(Secret(TELEGRAM_SECRET), accept))
    async with serve(build_app(deps)) as client:

        async def send(request: _Request) -> int:
            answer = await client.post(
                request.path,
                headers=request.headers,
                data=request.body,
                skip_auto_headers={"Content-Type"},
            )
            await answer.read()
            return answer.status

        def judge(request: _Request) -> list[str]:
            try:
                status = _on(loop, send(request))
            except Exception as error:
                raise crash(request, error) from error
            if status >= 500:
                raise Finding("crash", f"{status} for {request!r:.300}")
            if status == 200 and request.path == "/webhooks/nowpayments":
                raise Finding("forgery", f"an unsigned IPN was answered 200: {request!r:.300}")
            return [f"{status}"]

        yield Target("HTTP webhooks (hostile requests)", _requests, judge)
        invoice = await shop.order(UserId(5))
        body, headers = signed(shop.payload(invoice, "finished"))
        genuine = await client.post("/webhooks/nowpayments", headers=headers, data=body)
        if genuine.status != 200:
            raise AssertionError(f"the genuine IPN after the battery got {genuine.status}")
