"""How an API operation is declared: once, and read by both the router and the
OpenAPI document.

A group of operations (channels, subscribers, payments, exports, alerts) is a
module with a class whose ``operations()`` lists :class:`Operation` values: path,
method, the scope it needs, its path and query parameters', request's and response's
JSON Schemas, and the handler. The handler gets an :class:`ApiCall` (who is calling,
the path and query parameters and the body, all already checked against their
schemas) and returns the response body, which the router sends as JSON with
``status``.

Lists that may be long are keyset pages: the operation takes ``?cursor=`` (the
``next`` of the page before, opaque to the caller) and answers ``next`` (null on the
last page); :data:`CURSOR_PARAMETER` and :func:`page_of` declare both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import attrs

from adapters.inbound.http.api.schema import JsonSchema, check_schema
from core.ports.api_tokens import ApiScope
from core.services.dashboard import Viewer

__all__ = [
    "CURSOR_PARAMETER",
    "ID_PARAMETER",
    "PRINTABLE",
    "ApiCall",
    "Group",
    "Operation",
    "page_of",
]

ID_PARAMETER: JsonSchema = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
"""Our own ids (channels, tokens): ASCII letters and digits (the id generator's), and
``-`` and ``_`` as ids made by hand or imported may have."""

PRINTABLE = "^[ -~]*$"
"""Printable ASCII: what every id and username searched for is written in (and no
control character, which some stores refuse, ever reaches one)."""

CURSOR_PARAMETER: JsonSchema = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{1,128}$",
    "description": "Where the page starts: the `next` of the page before.",
}


def page_of(name: str, items: JsonSchema) -> JsonSchema:
    """The schema of a keyset page of ``items`` under ``name``, with its ``next``."""
    return {
        "type": "object",
        "required": [name, "next"],
        "properties": {
            name: {"type": "array", "items": items},
            "next": {
                "type": ["string", "null"],
                "description": "The cursor of the next page (`?cursor=`); null on the last.",
            },
        },
    }


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@attrs.frozen
class ApiCall:
    viewer: Viewer
    scope: ApiScope
    token_id: str
    parameters: Mapping[str, str]
    """The path parameters, then the query parameters that were given."""
    body: Any
    """The JSON body, checked against the operation's request schema (None without)."""


Handler = Callable[[ApiCall], Awaitable[object]]


def _check_declaration(operation: Operation) -> None:
    if not operation.path.startswith("/") or operation.path.endswith("/"):
        raise ValueError(f"{operation.path!r}: a path starts with / and does not end with it")
    placeholders = set(_PLACEHOLDER.findall(operation.path))
    if placeholders != set(operation.parameters):
        raise ValueError(f"{operation.path!r}: its parameters are {sorted(placeholders)}")
    if set(operation.query) & placeholders:
        raise ValueError(f"{operation.path!r}: a query parameter shares a path parameter's name")
    for schema in (
        operation.response,
        operation.request,
        *operation.parameters.values(),
        *operation.query.values(),
    ):
        if schema is not None:
            check_schema(schema)


@attrs.frozen
class Operation:
    method: str
    path: str
    """Under ``/api/v1``, OpenAPI's form: ``/channels/{channel_id}``."""
    operation_id: str
    summary: str
    scope: ApiScope
    handler: Handler
    response: JsonSchema
    """The body of the success answer."""
    request: JsonSchema | None = None
    """The JSON body it takes; None: it takes none."""
    parameters: Mapping[str, JsonSchema] = attrs.field(factory=dict)
    status: int = 200
    errors: tuple[int, ...] = ()
    """The failures besides those of every operation (400, 401, 403, 429, 503), such as
    404 for an operation on one thing."""
    query: Mapping[str, JsonSchema] = attrs.field(factory=dict)
    """The optional query parameters (strings); one out of its schema is a 400."""

    def __attrs_post_init__(self) -> None:
        _check_declaration(self)


class Group(Protocol):
    """A module's operations (channels, subscribers, ...)."""

    def operations(self) -> list[Operation]: ...
