"""What NowPayments signs: JavaScript's ``JSON.stringify`` of the body with every
object's keys sorted, recursively.

The provider's servers run JavaScript, so the bytes under the HMAC are the ones
``JSON.stringify(sortKeys(JSON.parse(body)))`` produces, not the bytes on the wire and
not what Python's ``json.dumps`` would write. Where the two languages differ, we do
what JavaScript does:

* Numbers are IEEE doubles. ``1.0`` is written ``1``, ``1e-07`` is ``1e-7``, integers
  beyond 2**53 are rounded (``12345678901234567890`` is ``12345678901234567000``),
  ``-0`` is ``0`` and a number too large for a double is ``null``. Formatting follows
  ECMAScript's Number::toString: the shortest digits that round-trip, positional
  from 1e-7 up to 1e21, exponent form outside.
* Strings escape only ``"``, ``\\``, control characters (``\\b \\f \\n \\r \\t``, the rest
  as ``\\u00xx``) and lone surrogates (``\\udxxx``); everything else, ``\\u2028`` and
  ``\\u2029`` included, is written as it is and hashed as UTF-8.
* Keys sort by UTF-16 code units (``Array.prototype.sort``), which puts astral
  characters before U+E000..U+FFFF, unlike Python's code-point order. Then the
  object's own key order applies: keys that are array indices (``"0"`` ..
  ``"4294967294"``) come first in numeric order, the rest in sorted order.
* Arrays keep their order; their elements are canonicalised.

Parsing keeps every number's text (:class:`JsonNumber`), so business code reads exact
``Decimal`` amounts while the signature sees the JavaScript double.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TypeAlias

import attrs

__all__ = [
    "MAX_DEPTH",
    "InvalidJson",
    "JsonNumber",
    "JsonValue",
    "canonical",
    "canonical_bytes",
    "js_number",
    "parse",
]

MAX_DEPTH = 64
"""Nesting deeper than this is refused: the provider's bodies nest two levels, and a
bound keeps a hostile body from exhausting the stack."""


class InvalidJson(ValueError):
    """The body is not JSON that JavaScript's ``JSON.parse`` would accept."""


@attrs.frozen
class JsonNumber:
    """A JSON number exactly as written in the body."""

    text: str

    def as_decimal(self) -> Decimal:
        return Decimal(self.text)

    def as_js(self) -> str:
        """How ``JSON.stringify`` writes this number after ``JSON.parse`` read it."""
        # float() of the decimal text rounds correctly to the nearest double, as
        # JSON.parse does; overflow gives inf, which JSON.stringify writes as null.
        return js_number(float(self.text))


JsonValue: TypeAlias = "bool | str | JsonNumber | list[JsonValue] | dict[str, JsonValue] | None"


def _refuse_constant(name: str) -> JsonValue:
    raise InvalidJson(f"{name} is not JSON")


def parse(body: bytes) -> JsonValue:
    """Read ``body`` as ``JSON.parse`` would, keeping numbers as :class:`JsonNumber`.

    Raises :class:`InvalidJson` for anything JavaScript would refuse (bad UTF-8, a
    byte-order mark, NaN, trailing data...) or nesting deeper than :data:`MAX_DEPTH`.
    """
    try:
        # Decoded explicitly: json.loads(bytes) would also guess UTF-16 and UTF-32.
        text = body.decode("utf-8")
        value: JsonValue = json.loads(
            text,
            parse_float=JsonNumber,
            parse_int=JsonNumber,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(f"body is not valid JSON: {exc}") from exc
    _check_depth(value, 0)
    return value


def _check_depth(value: JsonValue, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidJson(f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)


def canonical(value: JsonValue) -> str:
    """``JSON.stringify`` of ``value`` with its objects' keys sorted, recursively."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def canonical_bytes(body: bytes) -> bytes:
    """The bytes NowPayments' HMAC covers for this raw body. Raises InvalidJson."""
    return canonical(parse(body)).encode("utf-8")


def _write(value: JsonValue, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, JsonNumber):
        out.append(value.as_js())
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append("{")
        for index, key in enumerate(_js_key_order(value)):
            if index:
                out.append(",")
            out.append(_quote(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")


_MAX_ARRAY_INDEX = 2**32 - 2
_INDEX_SHAPE = re.compile(r"\A(?:0|[1-9][0-9]{0,9})\Z")


def _is_array_index(key: str) -> bool:
    return _INDEX_SHAPE.match(key) is not None and int(key) <= _MAX_ARRAY_INDEX


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units;
    # surrogatepass keeps lone surrogates (legal in JavaScript strings) sortable.
    return key.encode("utf-16-be", "surrogatepass")


def _js_key_order(obj: dict[str, JsonValue]) -> list[str]:
    """Keys as ``JSON.stringify`` lists them once the object was rebuilt in sorted
    order: array indices first in numeric order, then the others as sorted."""
    ordered = sorted(obj, key=_utf16_units)
    indices = sorted((key for key in ordered if _is_array_index(key)), key=int)
    return indices + [key for key in ordered if not _is_array_index(key)]


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
# A high surrogate followed by a low one is a pair (one astral character to
# JavaScript) and is written as it is; any other surrogate is lone and escaped.
_NEEDS_ESCAPE = re.compile('[\ud800-\udbff][\udc00-\udfff]|[\\x00-\\x1f"\\\\\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 2:
        high, low = ord(text[0]), ord(text[1])
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return _SHORT_ESCAPES.get(text) or f"\\u{ord(text):04x}"


def _quote(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def js_number(x: float) -> str:
    """ECMAScript Number::toString(x), as JSON.stringify writes a number."""
    if x != x or x in (float("inf"), float("-inf")):
        return "null"
    if x == 0:
        return "0"  # -0 too
    sign = "-" if x < 0 else ""
    digits, point = _shortest_digits(abs(x))
    # The value is 0.<digits> * 10**point: ECMAScript's k = len(digits), n = point.
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    exponent = n - 1
    exp_text = f"e+{exponent}" if exponent >= 0 else f"e{exponent}"
    if k == 1:
        return sign + digits + exp_text
    return sign + digits[0] + "." + digits[1:] + exp_text


def _shortest_digits(x: float) -> tuple[str, int]:
    """The shortest round-tripping decimal digits of ``x`` > 0 (Python's repr uses
    the same shortest, closest rule as ECMAScript) and the decimal point's place."""
    mantissa, _, exp_text = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    exponent = int(exp_text) if exp_text else 0
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    point = len(whole) + exponent - (len(all_digits) - len(significant))
    return significant.rstrip("0"), point
