"""The HTTP layer under the bot, behind the circuit breaker.

The breaker wraps each HTTP exchange, not the bot method: a message waiting its turn
in the pacing queue for 20 seconds is not a slow Telegram, and must not trip the
breaker's call timeout. Only what says Telegram is unwell counts as a failure: a
timeout, a connection error, a 5xx. A 4xx (including 429) is an answer from a
healthy Telegram and passes through as a success.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from adapters.outbound.breaker import CircuitBreaker, CircuitOpen

__all__ = ["BreakerRequest", "CallObserver", "call_result"]

CallObserver = Callable[[str, str], None]
"""Told of every Bot API call as it ends: the method (``sendMessage``) and its result,
one of ``ok``, ``rate_limited`` (429), ``refused`` (another 4xx), ``server_error``,
``circuit_open`` or ``unreachable``: bounded sets, fit for metric labels."""

_METHOD = re.compile(r"\A[A-Za-z]{1,64}\Z")


def call_result(code: int) -> str:
    if code == 429:
        return "rate_limited"
    if code >= 500:
        return "server_error"
    return "ok" if code < 400 else "refused"


def _method_of(url: str) -> str:
    # The URL holds the token (``/bot<token>/<method>``): only its last part is kept.
    method = url.rstrip("/").rpartition("/")[2]
    return method if _METHOD.match(method) else "other"


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

    def __init__(
        self,
        breaker: CircuitBreaker,
        inner: BaseRequest | None = None,
        observe: CallObserver | None = None,
    ) -> None:
        self._breaker = breaker
        self._inner = inner or HTTPXRequest()
        self._observe = observe

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

        result: str | None = None  # cancelled: not counted
        try:
            code, payload = await self._breaker.call(exchange)
            result = call_result(code)
            return code, payload
        except _ServerError as exc:
            result = call_result(exc.code)
            return exc.code, exc.payload
        except CircuitOpen:
            result = "circuit_open"
            raise
        except Exception:
            result = "unreachable"
            raise
        finally:
            if self._observe is not None and result is not None:
                self._observe(_method_of(url), result)
