"""aiohttp's per-connection protocol, with PayGate's answer to requests it cannot parse.

A request aiohttp cannot parse (a bad request line, a malformed header, a missing
``Host``, a line too long) never reaches a middleware: its protocol layer answers 400
itself and logs an ERROR with a full traceback, once per request, so anyone can fill
the log at will. Here such a request gets one warning line (what was wrong, from
whom), paced to one per interval with the rest summed up, and the same security
headers and JSON error shape as every answer of ours.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from adapters.inbound.http.connections import PacedLog, ProtocolFactory
from adapters.inbound.http.security_headers import Environment, security_headers

__all__ = ["EdgeRequestHandler", "edge_protocol", "malformed_log"]

_DETAIL_CHARS = 80


def malformed_log(interval: float = 10.0) -> PacedLog:
    return PacedLog(
        "malformed request from %s: %s",
        "%d more malformed requests in the last %g s (%s)",
        interval,
    )


def _detail(exc: HttpProcessingError) -> str:
    """The parser's complaint, first line only, bounded and quoted: it quotes the
    client's bytes, which must not shape the log line."""
    first = str(exc.message).strip().splitlines()[0] if str(exc.message).strip() else ""
    return f"{type(exc).__name__}: {first[:_DETAIL_CHARS]!r}"


class EdgeRequestHandler(RequestHandler):
    """aiohttp's protocol; only its answer to unparsable requests differs."""

    def __init__(
        self,
        manager: web.Server,
        *,
        environment: Environment,
        malformed: PacedLog,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        self._environment = environment
        self._malformed = malformed

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError) or status >= 500:
            # Not the client's malformed input (our own failure): aiohttp's own log line.
            response = super().handle_error(request, status, exc, message)
            response.headers.update(security_headers(self._environment, secrets.token_urlsafe(18)))
            return response
        self._malformed.note(type(exc).__name__, request.remote, _detail(exc))
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already sent on this connection")
        response = web.json_response(
            {"error": "bad request"},
            status=status,
            headers={
                **security_headers(self._environment, secrets.token_urlsafe(18)),
                "Cache-Control": "no-store",
            },
        )
        response.force_close()
        return response


def edge_protocol(
    server: web.Server, environment: Environment, malformed: PacedLog, **kwargs: Any
) -> ProtocolFactory:
    """A protocol factory for ``server`` (a runner's), with aiohttp's handler arguments
    (``keepalive_timeout``, ``lingering_time``, ``access_log``...)."""
    loop = asyncio.get_running_loop()

    def make() -> asyncio.Protocol:
        return EdgeRequestHandler(
            server, environment=environment, malformed=malformed, loop=loop, **kwargs
        )

    return make
