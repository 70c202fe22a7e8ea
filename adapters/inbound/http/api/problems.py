"""RFC 9457 problem details: every failure of the API is one, as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from aiohttp import web

__all__ = ["PROBLEM_TYPE", "ApiProblem", "problem"]

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """A problem response: ``type`` is ``about:blank``, so ``title`` is the status's
    own phrase (RFC 9457, 4.2.1); ``detail`` says what this request did wrong."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    response = web.json_response(body, status=status, headers=headers)
    response.content_type = PROBLEM_TYPE
    return response


class ApiProblem(Exception):
    """Raised by the router's steps and the operations: answered as a problem."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return problem(self.status, self.detail, self.headers)
