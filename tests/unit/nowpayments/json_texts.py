"""Hypothesis strategies for JSON *texts* (not values): every way JSON may spell a
string, a key or a number, so our canonicaliser is compared with Node over the text a
provider may really send. Used by test_canonical and by the hostile-input battery
(tests/hostile), which mutates these texts further."""

from __future__ import annotations

import json

from hypothesis import strategies as st

__all__ = ["json_texts", "key_texts", "number_texts", "string_texts"]

_MUST_ESCAPE_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_MUST_ESCAPE_SHORT["\t"] = "\\t"
_MAY_ESCAPE_SHORT = {"/": "\\/"}


def _u_escape(char: str, upper: bool) -> str:
    code = ord(char)
    units = (
        [code]
        if code < 0x10000
        else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    )
    return "".join(f"\\u{unit:04X}" if upper else f"\\u{unit:04x}" for unit in units)


def _render_char(char: str, how: str) -> str:
    """Every way JSON text may spell a character; the must-escape ones always escaped."""
    code = ord(char)
    must_escape = code < 0x20 or char in '"\\' or 0xD800 <= code <= 0xDFFF
    if how == "short" and char in _MUST_ESCAPE_SHORT:
        return _MUST_ESCAPE_SHORT[char]
    if how == "short" and char in _MAY_ESCAPE_SHORT:
        return _MAY_ESCAPE_SHORT[char]
    if how in ("lower", "upper") or must_escape:
        return _u_escape(char, upper=how == "upper")
    return char


characters = st.one_of(
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, codec="utf-8"),
    st.sampled_from(list('\u2028\u2029\x7f\x00\x1f"\\/\ue000\uffff\u00e9\t\n')),
)
spellings = st.sampled_from(["literal", "literal", "literal", "lower", "upper", "short"])
string_texts = st.lists(st.tuples(characters, spellings), max_size=12).map(
    lambda pairs: '"' + "".join(_render_char(c, how) for c, how in pairs) + '"'
)
key_texts = st.one_of(
    string_texts,
    st.sampled_from(
        ["0", "1", "9", "10", "01", "-1", "1.5", "4294967294", "4294967295", "__proto__", ""]
    ).map(json.dumps),
    st.integers(min_value=0, max_value=2**33).map(lambda n: f'"{n}"'),
    st.sampled_from(["a", "A", "b", "_", "payment_id", "fee", "Z", "é", "😀"]).map(
        lambda k: json.dumps(k, ensure_ascii=False)
    ),
)
digits = st.text("0123456789", min_size=1, max_size=22)
number_texts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    # Magnitudes spread evenly over the exponents, so the switches between
    # positional and exponent notation (1e-7, 1e21) are crossed often.
    st.builds(
        lambda mantissa, exponent: f"{mantissa}e{exponent}",
        st.integers(min_value=1, max_value=10**6),
        st.integers(min_value=-16, max_value=18),
    ),
    st.sampled_from(["1e-7", "9.99e-7", "0.000001", "1e21", "9.99e20", "1e-6", "-1.5e-7"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
        st.sampled_from(["", "-"]),
        st.one_of(st.just("0"), st.integers(min_value=1, max_value=10**25).map(str)),
        st.one_of(st.just(""), digits.map(lambda d: "." + d)),
        st.one_of(
            st.just(""),
            st.builds(
                lambda e, sign, n: e + sign + n,
                st.sampled_from(["e", "E"]),
                st.sampled_from(["", "+", "-"]),
                st.text("0123456789", min_size=1, max_size=3),
            ),
        ),
    ),
)
scalars = st.one_of(number_texts, string_texts, st.sampled_from(["true", "false", "null"]))
whitespace = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n "])


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.lists(st.tuples(whitespace, children), max_size=5).map(
        lambda items: "[" + ",".join(ws + item for ws, item in items) + "]"
    )
    objects = st.lists(st.tuples(key_texts, whitespace, children), max_size=6).map(
        lambda members: "{" + ",".join(k + ws + ":" + v for k, ws, v in members) + "}"
    )
    return st.one_of(arrays, objects, objects)


json_texts = st.builds(
    lambda before, value, after: before + value + after,
    whitespace,
    st.recursive(scalars, _containers, max_leaves=30),
    whitespace,
)
