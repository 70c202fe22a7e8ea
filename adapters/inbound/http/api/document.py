"""The OpenAPI 3.1 document of the API, made from the operations' declarations (the
same values the router registers), so the document cannot say what the routes do not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from adapters.inbound.http.api.operations import Operation
from adapters.inbound.http.api.problems import PROBLEM_TYPE
from adapters.inbound.http.api.schema import PROBLEM, JsonSchema

__all__ = ["EXCHANGE_RESPONSE", "openapi"]

EXCHANGE_RESPONSE: JsonSchema = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string", "description": "A JWT for the other operations."},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "description": "Seconds it is valid for."},
        "scope": {"type": "string", "enum": ["read", "write"]},
    },
}

_HEADERS: Mapping[int, Mapping[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    403: {"WWW-Authenticate": {"required": False, "schema": {"type": "string"}}},
    429: {"Retry-After": {"required": True, "schema": {"type": "string"}}},
    503: {"Retry-After": {"required": False, "schema": {"type": "string"}}},
}


def _failure(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in _HEADERS:
        answer["headers"] = dict(_HEADERS[status])
    return answer


def _responses(status: int, body: JsonSchema, failures: Iterable[int]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": dict(body)}},
        }
    }
    for failure in sorted(set(failures)):
        responses[str(failure)] = _failure(failure)
    return responses


def operation_failures(operation: Operation) -> tuple[int, ...]:
    """Every failure status ``operation`` may answer."""
    # 400: any operation refuses a query parameter it does not declare.
    common = (400, 401, 403, 429, 503)
    with_body = (413,) if operation.request is not None else ()
    # A path parameter out of its form names nothing: 404, like an unknown id.
    with_parameters = (404,) if operation.parameters else ()
    return tuple(sorted({*common, *with_body, *with_parameters, *operation.errors}))


def _operation(operation: Operation) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": f"Needs an access token of scope `{operation.scope.value}`"
        + (" (or `write`)." if operation.scope.value == "read" else "."),
        "security": [{"accessToken": []}],
        "x-paygate-scope": operation.scope.value,
        "responses": _responses(
            operation.status, operation.response, operation_failures(operation)
        ),
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": dict(schema)}
        for name, schema in operation.parameters.items()
    ] + [
        {"name": name, "in": "query", "required": False, "schema": dict(schema)}
        for name, schema in operation.query.items()
    ]
    if parameters:
        entry["parameters"] = parameters
    if operation.request is not None:
        entry["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": dict(operation.request)}},
        }
    return entry


def openapi(base: str, exchange_path: str, operations: Iterable[Operation]) -> dict[str, Any]:
    """The document: the token exchange at ``exchange_path``, then every operation."""
    paths: dict[str, dict[str, Any]] = {
        exchange_path: {
            "post": {
                "operationId": "exchangeToken",
                "summary": "Exchange an API token for an access token",
                "description": "Send the API token made in the dashboard (`pgt_...`) as a "
                "Bearer token; the answer is a JWT valid for 15 minutes.",
                "security": [{"apiToken": []}],
                "responses": _responses(200, EXCHANGE_RESPONSE, (401, 403, 429, 503)),
            }
        }
    }
    for operation in operations:
        paths.setdefault(base + operation.path, {})[operation.method.lower()] = _operation(
            operation
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PayGate API",
            "version": "1",
            "description": "What the dashboard does, as JSON. Failures are RFC 9457 problem "
            "details. Lists that may be long (subscribers, exports) are keyset pages: the "
            "answer's `next` is passed back as `?cursor=` for the following page, and is "
            "null on the last. Exports are JSON pages of the CSV export's rows, not CSV.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Problem": dict(PROBLEM)},
            "securitySchemes": {
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from the dashboard's API tokens page.",
                },
                "accessToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
