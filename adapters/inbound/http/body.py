"""Reading a request body with a hard cap, once per request.

aiohttp's ``client_max_size`` is one limit for the whole application; routes need
their own (16 KiB for payment notifications, about 1 KiB each). The body read here is kept on the
request, so a middleware that had to read it (signature checks) and the handler see
the same bytes.

The whole body must arrive within the application's body timeout
(:data:`BODY_TIMEOUT`): a sender trickling it a byte at a time is answered 408
instead of holding the connection and its handler for as long as it likes.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["BODY_TIMEOUT", "BodyTimeout", "BodyTooLarge", "IncompleteBody", "read_body"]

RAW_BODY = web.RequestKey("paygate.raw_body", bytes)
BODY_TIMEOUT = web.AppKey("paygate.body_timeout", float)
"""Seconds a whole request body may take to arrive; unset, no limit."""


class BodyTooLarge(Exception):
    """The body is larger than the route accepts (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodyTimeout(Exception):
    """The body did not arrive within the body timeout (answered 408)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s")


class IncompleteBody(Exception):
    """The body could not be read: the client went away, broke the framing, or sent a
    compressed body that does not decompress (answered 400)."""


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes. Raises BodyTooLarge before reading
    anything when the declared length is already too large."""
    if RAW_BODY in request:
        cached = request[RAW_BODY]
        if len(cached) > limit:
            raise BodyTooLarge(limit)
        return cached
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    timeout = request.config_dict.get(BODY_TIMEOUT)
    try:
        async with asyncio.timeout(timeout):
            chunks = await _read_capped(request, limit)
    except TimeoutError as exc:
        raise BodyTimeout(timeout or 0.0) from exc
    body = b"".join(chunks)
    request[RAW_BODY] = body
    return body


async def _read_capped(request: web.Request, limit: int) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = await request.content.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
    except (
        web.RequestPayloadError,
        ClientPayloadError,
        HttpProcessingError,
        ConnectionResetError,
    ) as exc:
        raise IncompleteBody("the request body could not be read") from exc
    return chunks
