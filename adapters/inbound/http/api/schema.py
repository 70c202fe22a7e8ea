"""The JSON Schemas of the API's bodies, and the checker the router reads them with.

A request body is checked against the schema its operation declares, the one the
OpenAPI document shows, so the two cannot drift. The checker knows the keywords these
schemas use (JSON Schema 2020-12's ``type``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``minLength``, ``maxLength``,
``pattern``, ``minimum``, ``maximum``); a schema with any other checking keyword is
refused when the operation is declared, never silently half-checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["PROBLEM", "JsonSchema", "SchemaError", "check_schema", "violation"]

JsonSchema = Mapping[str, Any]

_CHECKED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
    }
)
_ANNOTATIONS = frozenset({"title", "description", "format", "examples", "default"})
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(ValueError):
    """A declared schema uses a keyword the checker does not know."""


def check_schema(schema: JsonSchema) -> None:
    """Raise SchemaError unless every keyword of ``schema`` is one the checker knows."""
    unknown = set(schema) - _CHECKED - _ANNOTATIONS
    if unknown:
        raise SchemaError(f"unsupported JSON Schema keywords: {sorted(unknown)}")
    for sub in schema.get("properties", {}).values():
        check_schema(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            check_schema(schema[key])


def violation(schema: JsonSchema, value: object, where: str = "body") -> str | None:
    """What is wrong with ``value`` under ``schema``, in a sentence; None when nothing."""
    wanted = schema.get("type")
    if wanted is not None:
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        if not any(_TYPES[name](value) for name in names):
            return f"{where} must be {' or '.join(names)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} must be one of {', '.join(map(str, schema['enum']))}"
    if isinstance(value, str):
        return _string(schema, value, where)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} must be at most {schema['maximum']}"
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            if (problem := violation(schema["items"], item, f"{where}[{index}]")) is not None:
                return problem
    if isinstance(value, dict):
        return _object(schema, value, where)
    return None


def _string(schema: JsonSchema, value: str, where: str) -> str | None:
    if len(value) < schema.get("minLength", 0):
        return f"{where} must have at least {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{where} must have at most {schema['maxLength']} characters"
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return f"{where} is not in the expected form"
    return None


def _object(schema: JsonSchema, value: dict[str, object], where: str) -> str | None:
    for name in schema.get("required", ()):
        if name not in value:
            return f"{where}.{name} is required"
    properties: Mapping[str, JsonSchema] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            sub = properties[name]
        elif extra is False:
            return f"{where}.{name} is not expected"
        elif isinstance(extra, Mapping):
            sub = extra
        else:
            continue
        if (problem := violation(sub, item, f"{where}.{name}")) is not None:
            return problem
    return None


PROBLEM: JsonSchema = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
    },
}
