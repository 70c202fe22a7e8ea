"""The HTTP API under ``/api/v1``: each declared operation behind the same steps.

1. ``Authorization: Bearer <access token>`` (a JWT from ``POST /api/v1/token``),
   valid, unexpired, and its API token still active: else 401 with
   ``WWW-Authenticate: Bearer``;
2. the API token's own rate limit (a bucket per token, shared in Redis when
   configured): else 429 with ``Retry-After``;
3. the scope the operation needs (``write`` includes ``read``): else 403;
4. the token's owner still admitted as the dashboard admits them: else 403;
5. the path and query parameters and the JSON body checked against their declared
   schemas: 404 for an id out of its form, 400 for a query parameter (an undeclared
   one included) or a body;
6. the operation; the core decides what the caller may see (someone else's channel
   is 404) and the domain's refusals become problem details here, in one place.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import Any

import attrs
from aiohttp import web

from adapters.catalog.language import DEFAULT, speaking
from adapters.catalog.refusals import refusal
from adapters.inbound.http.api.access import AccessTokens, InvalidAccess
from adapters.inbound.http.api.document import openapi
from adapters.inbound.http.api.operations import ApiCall, Group, Operation
from adapters.inbound.http.api.problems import ApiProblem, problem
from adapters.inbound.http.api.schema import violation
from adapters.inbound.http.body import BodyTooLarge, IncompleteBody, read_body
from adapters.inbound.http.errors import API_PREFIX, retry_after_header
from adapters.inbound.http.routes import Handler, Route, RoutePolicy
from core.domain.errors import (
    DomainError,
    InvalidTransition,
    MissingRights,
    NotAuthorized,
    Why,
)
from core.ports.api_tokens import ApiToken
from core.ports.errors import Conflict, NotFound, Unavailable
from core.ports.security import RateLimiter
from core.services.api_tokens import ApiTokens
from core.services.subscriber_status import NoActiveSubscription

__all__ = ["BASE", "Api", "ApiSettings"]

logger = logging.getLogger(__name__)

BASE = API_PREFIX
EXCHANGE = f"{BASE}/token"
DOCUMENT = f"{BASE}/openapi.json"
REALM = 'Bearer realm="paygate-api"'


@attrs.frozen
class ApiSettings:
    body_limit: int = 16 * 1024
    """Bytes of JSON body an operation reads at most (413 past it): room for a
    500-character reason even written all in ``\\uXXXX`` escapes."""


def _unauthorised(detail: str, presented: bool) -> ApiProblem:
    challenge = REALM + (', error="invalid_token"' if presented else "")
    return ApiProblem(401, detail, {"WWW-Authenticate": challenge})


def _bearer(request: web.Request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorised("send Authorization: Bearer <token>", presented=False)
    return credentials.strip()


_MISSING = {
    "channel_id": Why.NO_SUCH_CHANNEL,
    "intent_id": Why.NO_SUCH_PAYMENT,
    "user_id": Why.NO_SUCH_SUBSCRIBER,
}
"""What a path parameter that cannot name anything is answered with: the same 404 as
an id that names nothing (or someone else's)."""


def _worded(error: DomainError) -> str:
    """The refusal in English, as the catalog words it."""
    with speaking(DEFAULT):
        return refusal(error)


def _domain_problem(error: DomainError) -> ApiProblem:
    detail = _worded(error)
    if isinstance(error, NotAuthorized):
        return ApiProblem(403, detail)
    if type(error).__name__.startswith("Unknown"):
        return ApiProblem(404, detail)
    # The thing is not in a state for this (no rights yet, revoked already, not active).
    if isinstance(error, MissingRights | InvalidTransition | NoActiveSubscription):
        return ApiProblem(409, detail)
    return ApiProblem(400, detail)


def _not_allowed(methods: set[str]) -> Handler:
    allow = ", ".join(sorted(methods))

    async def not_allowed(request: web.Request) -> web.StreamResponse:
        return problem(405, f"{request.method} is not served here; {allow} is", {"Allow": allow})

    return not_allowed


async def _unknown(request: web.Request) -> web.StreamResponse:
    return problem(404, "no such API operation; see GET /api/v1/openapi.json")


@attrs.define(eq=False)
class Api:
    _tokens: ApiTokens
    _access: AccessTokens
    _limiter: RateLimiter
    """Buckets per API token (``api:<token id>``)."""
    _groups: Sequence[Group]
    _settings: ApiSettings = ApiSettings()

    def operations(self) -> list[Operation]:
        return [operation for group in self._groups for operation in group.operations()]

    def document(self) -> dict[str, Any]:
        return openapi(BASE, EXCHANGE, self.operations())

    def routes(self) -> list[Route]:
        policy = RoutePolicy(body_limit=self._settings.body_limit)
        routes = [
            Route("POST", EXCHANGE, self._answer(self._exchange), "api.token", policy),
            Route("GET", DOCUMENT, self._document, "api.openapi"),
        ]
        allowed: dict[str, set[str]] = {EXCHANGE: {"POST"}, DOCUMENT: {"GET"}}
        for operation in self.operations():
            routes.append(
                Route(
                    operation.method,
                    BASE + operation.path,
                    self._answer(self._operation(operation)),
                    f"api.{operation.operation_id}",
                    policy,
                )
            )
            allowed.setdefault(BASE + operation.path, set()).add(operation.method)
        # Matched only after the routes above: other methods and unknown paths under
        # the API are problem details too, not the rest of the site's JSON errors.
        for number, (path, methods) in enumerate(allowed.items()):
            routes.append(Route("*", path, _not_allowed(methods), f"api.not_allowed_{number}"))
        routes.append(Route("*", BASE + "/{tail:.*}", _unknown, "api.unknown"))
        return routes

    # ---------------------------------------------------------------- steps

    def _answer(self, handler: Handler) -> Handler:
        async def answer(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ApiProblem as exc:
                return exc.response()
            except DomainError as exc:
                return _domain_problem(exc).response()
            except NotFound:
                return problem(404, "not found")
            except Conflict:
                return problem(409, "someone else changed this first; try again")
            except BodyTooLarge as exc:
                return problem(413, str(exc))
            except IncompleteBody as exc:
                return problem(400, str(exc))
            except Unavailable as exc:
                logger.warning(
                    "%s %s: dependency unavailable: %s", request.method, request.path, exc
                )
                wait = retry_after_header(exc.retry_after) or {"Retry-After": "1"}
                return problem(503, "temporarily unavailable; retry later", wait)

        return answer

    async def _limit(self, token: ApiToken) -> None:
        decision = await self._limiter.hit(f"api:{token.id}")
        if not decision.allowed:
            wait = max(1, math.ceil(decision.retry_after))
            raise ApiProblem(
                429,
                f"this API token made too many calls; retry in {wait} s",
                {
                    "Retry-After": str(wait),
                    "RateLimit-Limit": str(decision.limit),
                    "RateLimit-Remaining": str(decision.remaining),
                    "RateLimit-Reset": str(wait),
                },
            )

    async def _exchange(self, request: web.Request) -> web.StreamResponse:
        token = await self._tokens.authenticate(_bearer(request))
        if token is None:
            raise _unauthorised("this API token is unknown or revoked", presented=True)
        await self._limit(token)
        await self._tokens.viewer(token)
        body = {
            "access_token": self._access.issue(token),
            "token_type": "Bearer",
            "expires_in": int(self._access.lifetime.total_seconds()),
            "scope": token.scope.value,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def _document(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.document())

    async def _caller(self, request: web.Request) -> ApiCall:
        presented = _bearer(request)
        try:
            claims = self._access.verify(presented)
        except InvalidAccess as exc:
            hint = "; exchange it at POST /api/v1/token" if presented.startswith("pgt_") else ""
            raise _unauthorised(f"{exc}{hint}", presented=True) from None
        token = await self._tokens.still_active(claims.token_id)
        if token is None or token.user_id != claims.user_id:
            raise _unauthorised("the API token of this access token was revoked", presented=True)
        await self._limit(token)
        viewer = await self._tokens.viewer(token)
        return ApiCall(viewer, claims.scope, token.id, {}, None)

    def _operation(self, operation: Operation) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = await self._caller(request)
            if not call.scope.allows(operation.scope):
                raise ApiProblem(
                    403,
                    f"this needs a token of scope {operation.scope.value}",
                    {
                        "WWW-Authenticate": REALM
                        + f', error="insufficient_scope", scope="{operation.scope.value}"'
                    },
                )
            parameters = {}
            for name, schema in operation.parameters.items():
                value = request.match_info[name]
                if violation(schema, value, name) is not None:
                    raise ApiProblem(
                        404, _worded(DomainError(_MISSING.get(name, Why.NO_SUCH_CHANNEL)))
                    )
                parameters[name] = value
            unexpected = sorted(set(request.query) - set(operation.query))
            if unexpected:
                raise ApiProblem(400, f"the query parameter {unexpected[0]} is not expected")
            for name, schema in operation.query.items():
                given = request.query.getall(name, [])
                if len(given) > 1:
                    raise ApiProblem(400, f"the query parameter {name} is given more than once")
                if given:
                    wrong = violation(schema, given[0], f"the query parameter {name}")
                    if wrong is not None:
                        raise ApiProblem(400, wrong)
                    parameters[name] = given[0]
            body = await self._body(operation, request)
            result = await operation.handler(attrs.evolve(call, parameters=parameters, body=body))
            return web.json_response(result, status=operation.status)

        return handle

    async def _body(self, operation: Operation, request: web.Request) -> object:
        if operation.request is None:
            return None
        raw = await read_body(request, self._settings.body_limit)
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            raise ApiProblem(400, "the body is not JSON") from None
        wrong = violation(operation.request, body)
        if wrong is not None:
            raise ApiProblem(400, wrong)
        return body
