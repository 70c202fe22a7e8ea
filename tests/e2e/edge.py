"""What stands between a fleet of PayGate processes and the outside world in these
tests: the load balancer the payment provider posts to, and a recording tap in front
of the Telegram emulator that knows which start of which process made each call.

Both are small aiohttp servers on loopback, running in the test's event loop.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import aiohttp
import attrs
from aiohttp import web

NOWPAYMENTS_SENDERS = ("51.89.194.21", "51.75.77.69", "138.201.172.58", "65.21.158.36")
"""The addresses NowPayments publishes for its IPNs; the balancer tells the web
processes (which trust it as a proxy) that each IPN came from one of them."""

_FORWARDED_HEADERS = ("Content-Type", "x-nowpayments-sig", "X-Telegram-Bot-Api-Secret-Token")


class _LoopbackProxy:
    """An aiohttp server on loopback that passes requests on through a client session
    of its own; the server and the session are closed on exit."""

    def __init__(self, app: web.Application, client_timeout: float) -> None:
        self._app = app
        self._client_timeout = client_timeout
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._client_timeout)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _listen(self) -> int:
        """Serve on one more loopback port, and say which."""
        assert self._runner is not None
        sock = _loopback_socket()
        await web.SockSite(self._runner, sock).start()
        return int(sock.getsockname()[1])


class IpnBalancer(_LoopbackProxy):
    """One public address for the provider's IPNs, spread over the web processes round
    robin, as a load balancer in production does.

    A web process that refuses the connection (down, restarting) is skipped for the
    next one; a request that reached a process but got no answer (it died on the way)
    is answered 502 and never replayed here, because a POST is not idempotent: the
    provider retries it, which is the behaviour under test."""

    def __init__(self, backends: Sequence[str]) -> None:
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        super().__init__(app, client_timeout=10)
        self._backends = tuple(b.rstrip("/") for b in backends)
        self._turn = itertools.count()
        self._senders = itertools.cycle(NOWPAYMENTS_SENDERS)
        self.url = ""
        self.forwarded: Counter[str] = Counter()
        """Requests each backend answered."""
        self.answers: Counter[int] = Counter()
        """Status codes given to the provider (502: no web process answered)."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.url = f"http://127.0.0.1:{await self._listen()}"
        return self

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        headers = {h: request.headers[h] for h in _FORWARDED_HEADERS if h in request.headers}
        headers["X-Forwarded-For"] = next(self._senders)
        first = next(self._turn)
        for offset in range(len(self._backends)):
            backend = self._backends[(first + offset) % len(self._backends)]
            try:
                async with self._client.post(
                    backend + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    self.forwarded[backend] += 1
                    self.answers[answer.status] += 1
                    return web.Response(
                        status=answer.status,
                        body=payload,
                        content_type=answer.content_type,
                    )
            except aiohttp.ClientConnectorError:
                continue  # nothing was sent: the next process may take it
            except (aiohttp.ClientError, TimeoutError):
                break  # sent, and no answer: only the provider may send it again
        self.answers[502] += 1
        return web.Response(status=502, text="no web process answered")


@attrs.frozen
class Caller:
    """One start of one process."""

    process: str
    incarnation: int


@attrs.frozen
class TappedCall:
    """A Bot API call as it went through the tap, with Telegram's answer."""

    caller: Caller
    method: str
    params: dict[str, str]
    status: int
    result: Any
    """The ``result`` of a successful answer (None otherwise)."""
    at: float
    """``time.monotonic()`` when the answer came back."""

    @property
    def ok(self) -> bool:
        return self.status == 200


class TelegramTap(_LoopbackProxy):
    """A pass-through to the Telegram emulator that records every call and who made it.

    Each start of a process gets its own listening port (:meth:`url_for`), so a call is
    attributed by the port it arrived on, never by timing: a process that is killed
    cannot be confused with its next start."""

    def __init__(self, upstream: str) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._pass)
        super().__init__(app, client_timeout=30)
        self._upstream = upstream.rstrip("/")
        self._callers: dict[int, Caller] = {}
        self.calls: list[TappedCall] = []

    async def url_for(self, process: str, incarnation: int) -> str:
        """The Bot API root to give that start of that process."""
        # Named once open: no process knows the port before this returns.
        port = await self._listen()
        self._callers[port] = Caller(process, incarnation)
        return f"http://127.0.0.1:{port}"

    def by(self, method: str) -> list[TappedCall]:
        """Successful calls of ``method``, in the order Telegram answered them."""
        return [c for c in self.calls if c.method == method and c.ok]

    async def _pass(self, request: web.Request) -> web.Response:
        assert self._client is not None
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        caller = self._callers[int(sockname[1])] if sockname else Caller("?", 0)
        try:
            body = await request.read()
        except ConnectionResetError:
            # The caller died while sending: the call never reached Telegram.
            return web.Response(status=499)
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with self._client.request(
            request.method, self._upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            status = answer.status
        method = request.path.rsplit("/", 1)[-1]
        result = json.loads(payload).get("result") if status == 200 else None
        self.calls.append(
            TappedCall(
                caller,
                method,
                _params(body, headers["Content-Type"]),
                status,
                result,
                time.monotonic(),
            )
        )
        return web.Response(status=status, body=payload, content_type="application/json")


def _params(body: bytes, content_type: str) -> dict[str, str]:
    """The call's parameters as text, whichever encoding the client chose."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode()))
    return {}


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock
