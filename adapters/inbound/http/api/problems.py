"""RFC 9457 problem details: every failure of the API is one, as JSON (the shared
middlewares answer the API's paths in the same form, see
:func:`adapters.inbound.http.errors.error_answer`)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from adapters.inbound.http.errors import PROBLEM_TYPE
from adapters.inbound.http.errors import problem_details as problem

__all__ = ["PROBLEM_TYPE", "ApiProblem", "problem"]


class ApiProblem(Exception):
    """Raised by the router's steps and the operations: answered as a problem."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return problem(self.status, self.detail, self.headers)
