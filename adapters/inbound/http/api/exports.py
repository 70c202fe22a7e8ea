"""The exports' operations: every subscriber, payment or donation of your channels
(an operator's: every channel's), as the dashboard's CSV exports hold them, in JSON
keyset pages (``?cursor=``, ``next``) of :data:`~core.services.dashboard_exports.PAGE_SIZE`
rows ordered by id, so a client reads any number of rows at constant cost.

A row is an object whose keys are the CSV's columns and whose values its cells:
strings, an empty one for nothing (the same text the CSV export writes, without the
spreadsheet guard, since JSON is not opened as a spreadsheet). The cursor is the
last row's id, base64url-encoded: opaque, and safe in a query string.
"""

from __future__ import annotations

import base64
import binascii

import attrs

from adapters.inbound.http.api.operations import CURSOR_PARAMETER, ApiCall, Operation, page_of
from adapters.inbound.http.api.problems import ApiProblem
from adapters.inbound.http.api.schema import JsonSchema
from core.ports.api_tokens import ApiScope
from core.services.dashboard_exports import HEADERS, DashboardExports, ExportKind

__all__ = ["ExportOperations", "decode_cursor", "encode_cursor"]

_KIND: JsonSchema = {"type": "string", "enum": [kind.value for kind in ExportKind]}
_ROW: JsonSchema = {
    "type": "object",
    "description": "The CSV export's columns, by kind: "
    + "; ".join(f"{kind}: {', '.join(HEADERS[kind])}" for kind in ExportKind),
    "additionalProperties": {"type": "string"},
}
_PAGE: JsonSchema = page_of("rows", _ROW)


def encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a page starts after. Raises ApiProblem (400) for a cursor not made by
    :func:`encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise ApiProblem(400, "this cursor is broken; start from the first page") from None


@attrs.define(eq=False)
class ExportOperations:
    _exports: DashboardExports

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET",
                "/exports/{kind}",
                "exportRows",
                "Every subscriber, payment or donation of your channels, a page at a time",
                ApiScope.READ,
                self.rows,
                _PAGE,
                parameters={"kind": _KIND},
                query={"cursor": CURSOR_PARAMETER},
            )
        ]

    async def rows(self, call: ApiCall) -> object:
        kind = ExportKind(call.parameters["kind"])
        cursor = call.parameters.get("cursor")
        after = None if cursor is None else decode_cursor(cursor)
        page = await self._exports.page(call.viewer, kind, after)
        return {
            "rows": [dict(zip(page.header, row, strict=True)) for row in page.rows],
            "next": None if page.last is None else encode_cursor(page.last),
        }
