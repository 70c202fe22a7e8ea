"""Reading a request body with a hard cap, once per request.

aiohttp's ``client_max_size`` is one limit for the whole application; routes need
their own (16 KiB for payment notifications, about 1 KiB each). The body read here is kept on the
request, so a middleware that had to read it (signature checks) and the handler see
the same bytes.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["BodyTooLarge", "IncompleteBody", "read_body"]

RAW_BODY = web.RequestKey("paygate.raw_body", bytes)


class BodyTooLarge(Exception):
    """The body is larger than the route accepts (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


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
    body = b"".join(chunks)
    request[RAW_BODY] = body
    return body
