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
from json.encoder import encode_basestring as _encode_basestring
from typing import TypeAlias

import attrs

__all__ = [
    "MAX_DEPTH",
    "Bounds",
    "InvalidJson",
    "JsonNumber",
    "JsonValue",
    "OutOfBounds",
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


class OutOfBounds(InvalidJson):
    """The body is JSON, but larger in some dimension than the sender ever writes."""


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be positive")


@attrs.frozen
class Bounds:
    """The largest shape a body may have, checked before it costs more than its size.

    Canonicalising costs per value (a Python object for every number, a sort for every
    object, a callback for every escaped surrogate), not per byte: a body cut from a
    few thousand tiny numbers costs a hundred times what a real notification of the
    same size does. A sender whose documents are small and fixed in shape (the
    provider's notifications) states these bounds, and anything beyond them is
    refused before any of that work, most of it from byte counts alone."""

    max_depth: int = attrs.field(validator=_positive)
    """Levels of nesting: the document itself is level 0."""
    max_values: int = attrs.field(validator=_positive)
    """Values in the whole document, containers included, keys not."""
    max_string: int = attrs.field(validator=_positive)
    """Characters in a string or a key."""
    max_number: int = attrs.field(validator=_positive)
    """Characters of a number as written."""
    max_escapes: int = attrs.field(validator=_positive)
    """``\\u`` escapes in the whole body."""

    def check_bytes(self, body: bytes) -> None:
        """What the raw bytes tell, at the speed of ``bytes.count``. Every value after
        the first of a container follows a comma, and every container opens with a
        bracket, so commas and opening brackets bound the number of values (those in
        strings count too, which only errs on the side of refusing)."""
        separators = body.count(b",") + body.count(b"[") + body.count(b"{")
        if separators + 1 > self.max_values:
            raise OutOfBounds(
                f"the body has {separators} commas and brackets, so up to "
                f"{separators + 1} values; at most {self.max_values} are accepted"
            )
        escapes = body.count(b"\\u")
        if escapes > self.max_escapes:
            raise OutOfBounds(
                f"the body has {escapes} \\u escapes; at most {self.max_escapes} are accepted"
            )

    def check(self, value: JsonValue) -> None:
        """What only the parsed document tells: depth, strings, keys and numbers.
        Level by level, so the count is known before a level is looked into."""
        level: list[JsonValue] = [value]
        depth = count = 0
        while level:
            count += len(level)
            if count > self.max_values:
                raise OutOfBounds(f"the body has more than {self.max_values} values")
            nested: list[JsonValue] = []
            for item in level:
                kind = type(item)
                if kind is str:
                    self._check_text(len(item), "a string")  # type: ignore[arg-type]
                elif kind is JsonNumber:
                    size = len(item.text)  # type: ignore[union-attr]
                    if size > self.max_number:
                        raise OutOfBounds(
                            f"a number of {size} characters; at most {self.max_number} are accepted"
                        )
                elif item and (kind is dict or kind is list):
                    if depth >= self.max_depth:
                        raise OutOfBounds(f"the body nests deeper than {self.max_depth} levels")
                    if isinstance(item, dict):
                        self._check_text(max(map(len, item)), "a key")
                        nested.extend(item.values())
                    else:
                        nested.extend(item)  # type: ignore[arg-type]
            level = nested
            depth += 1

    def _check_text(self, size: int, what: str) -> None:
        if size > self.max_string:
            raise OutOfBounds(
                f"{what} of {size} characters; at most {self.max_string} are accepted"
            )


class JsonNumber:
    """A JSON number exactly as written in the body.

    A plain class with one slot rather than an attrs class: every number of every
    notification becomes one, and this constructor is the cheapest there is."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JsonNumber):
            return NotImplemented
        return self._text == other._text

    def __hash__(self) -> int:
        return hash((JsonNumber, self._text))

    def __repr__(self) -> str:
        return f"JsonNumber(text={self._text!r})"

    def as_decimal(self) -> Decimal:
        return Decimal(self.text)

    def as_js(self) -> str:
        """How ``JSON.stringify`` writes this number after ``JSON.parse`` read it."""
        text = self.text
        if len(text) <= 15 and text.isascii() and text.isdigit():
            # A whole number of at most 15 digits is exact in a double, and JSON has
            # no leading zeros: JavaScript writes it back as it was written.
            return text
        # float() of the decimal text rounds correctly to the nearest double, as
        # JSON.parse does; overflow gives inf, which JSON.stringify writes as null.
        return js_number(float(text))


JsonValue: TypeAlias = "bool | str | JsonNumber | list[JsonValue] | dict[str, JsonValue] | None"


def _refuse_constant(name: str) -> JsonValue:
    raise InvalidJson(f"{name} is not JSON")


def parse(body: bytes, bounds: Bounds | None = None) -> JsonValue:
    """Read ``body`` as ``JSON.parse`` would, keeping numbers as :class:`JsonNumber`.

    Raises :class:`InvalidJson` for anything JavaScript would refuse (bad UTF-8, a
    byte-order mark, NaN, trailing data...) or nesting deeper than :data:`MAX_DEPTH`,
    and :class:`OutOfBounds` for a body beyond ``bounds`` (checked on the bytes before
    parsing, then on the document before anything else reads it).
    """
    if bounds is not None:
        bounds.check_bytes(body)
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
    # Each level of nesting opens with a bracket: a body with no more brackets than
    # the limit (counting those inside strings too) cannot nest deeper than it.
    if text.count("{") + text.count("[") > MAX_DEPTH:
        _check_depth(value, 0)
    if bounds is not None:
        bounds.check(value)
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
        separator = "{"
        for key, quoted in _object_keys(value):
            out.append(separator)
            out.append(quoted)
            _write(value[key], out)
            separator = ","
        out.append("}" if separator == "," else "{}")


_SHAPES_KEPT = 256
"""Object shapes (their keys, in body order) whose JavaScript key order is kept: the
provider's bodies come in a handful of shapes, so a notification's keys are sorted
and quoted once, not on every request. Bounded, so hostile bodies with ever new keys
cost only the sorting they would have cost anyway."""

_shapes: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}


def _object_keys(obj: dict[str, JsonValue]) -> tuple[tuple[str, str], ...]:
    """Each key in the order ``JSON.stringify`` writes them, with its quoted form and
    the colon that follows it."""
    shape = tuple(obj)
    keys = _shapes.get(shape)
    if keys is None:
        keys = tuple((key, _quote(key) + ":") for key in _js_key_order(obj))
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.clear()
        _shapes[shape] = keys
    return keys


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


_SURROGATE = re.compile("[\ud800-\udfff]")


def _quote(text: str) -> str:
    if _SURROGATE.search(text) is None:
        # Without surrogates, the json module's C escaper writes exactly what
        # JavaScript writes (the same escapes, lower-case \u00xx, the rest as is).
        return _encode_basestring(text)
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
