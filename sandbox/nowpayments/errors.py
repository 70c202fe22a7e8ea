"""The provider's error answers: ``{"status": false, "statusCode", "code", "message"}``."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

__all__ = ["BadRequest", "provider_error"]


class BadRequest(Exception):
    """A request the provider refuses as malformed; its message is the answer's
    ``message`` under ``INVALID_REQUEST_PARAMS``."""


def provider_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {"status": False, "statusCode": status, "code": code, "message": message}
    return web.json_response(body, status=status, headers=headers)
