"""The HTTP layer under the bot, behind the circuit breaker.

The breaker wraps each HTTP exchange, not the bot method: a message waiting its turn
in the pacing queue for 20 seconds is not a slow Telegram, and must not trip the
breaker's call timeout. Only what says Telegram is unwell counts as a failure: a
timeout, a connection error, a 5xx. A 4xx (including 429) is an answer from a
healthy Telegram and passes through as a success.
"""

from __future__ import annotations

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from adapters.outbound.breaker import CircuitBreaker

__all__ = ["BreakerRequest"]


class _ServerError(Exception):
    """A 5xx, raised inside the breaker so it counts, then answered as usual."""

    def __init__(self, code: int, payload: bytes) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code
        self.payload = payload


class BreakerRequest(BaseRequest):
    """A ``telegram.request.BaseRequest`` that sends through ``inner`` (HTTPX by
    default) under ``breaker``. An open circuit reaches PTB as a NetworkError whose
    ``__cause__`` is the breaker's CircuitOpen."""

    def __init__(self, breaker: CircuitBreaker, inner: BaseRequest | None = None) -> None:
        self._breaker = breaker
        self._inner = inner or HTTPXRequest()

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        async def exchange() -> tuple[int, bytes]:
            code, payload = await self._inner.do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
            if code >= 500:
                raise _ServerError(code, payload)
            return code, payload

        try:
            return await self._breaker.call(exchange)
        except _ServerError as exc:
            return exc.code, exc.payload
