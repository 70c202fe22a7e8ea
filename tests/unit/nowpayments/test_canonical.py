"""Our canonical form is byte for byte what JavaScript signs.

Three layers of proof: readable cases for the known traps; committed golden vectors
that Node produced (they run without Node); and, when Node is present (always in CI),
the same vectors re-checked against Node plus a property test over random JSON texts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.outbound.nowpayments.canonical import (
    MAX_DEPTH,
    InvalidJson,
    JsonNumber,
    canonical,
    canonical_bytes,
    js_number,
    parse,
)
from tests.unit.nowpayments.json_texts import json_texts
from tests.unit.nowpayments.node_reference import NodeReference

GOLDEN = Path(__file__).parents[2] / "golden" / "nowpayments_canonical.json"
_golden: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
SECRET: str = _golden["secret"]
VECTORS: list[dict[str, Any]] = _golden["vectors"]


def ours(raw: str) -> str:
    return canonical_bytes(raw.encode("utf-8")).decode("utf-8")


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode("utf-8"), hashlib.sha512).hexdigest()


# ------------------------------------------------------------------ the traps, readably


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.0", "1"),
        ("1e-07", "1e-7"),
        ("0.000001", "0.000001"),
        ("1E+21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("123e-20", "1.23e-18"),
        ("-0", "0"),
        ("12.50", "12.5"),
        ("9007199254740993", "9007199254740992"),
        ("12345678901234567890", "12345678901234567000"),
        ("1e400", "null"),
        ("0", "0"),
        ("100", "100"),
        ("-12", "-12"),
        ("123456789012345", "123456789012345"),
        ("9999999999999999", "10000000000000000"),
        ("0.00012345", "0.00012345"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ],
)
def test_numbers_are_written_as_javascript_writes_the_double(raw: str, expected: str) -> None:
    assert ours(raw) == expected


def test_non_ascii_text_is_written_as_is_not_escaped() -> None:
    assert ours('{"d":"Caf\\u00e9 \u2615"}') == '{"d":"Café ☕"}'


def test_line_and_paragraph_separators_are_not_escaped() -> None:
    assert ours('"\\u2028\\u2029"') == '"\u2028\u2029"'


def test_control_characters_use_short_escapes_or_lowercase_hex() -> None:
    assert (
        ours('"\\u0008\\u0009\\u000A\\u000C\\u000D\\u001F\\u007F"')
        == '"\\b\\t\\n\\f\\r\\u001f\x7f"'
    )


def test_lone_surrogates_are_escaped_and_pairs_are_joined() -> None:
    assert ours('"\\uD83D\\uDE00 \\udbff \\udc00"') == '"😀 \\udbff \\udc00"'


def test_surrogate_code_points_that_form_a_pair_are_one_character() -> None:
    # parse() already joins escaped pairs; a value built in Python may not have.
    assert canonical(["\ud83d\ude00", "\ude00\ud83d"]) == '["😀","\\ude00\\ud83d"]'


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 and U+FFFF.
    assert ours('{"\\uffff":1,"\\ue000":2,"😀":3}') == '{"😀":3,"\ue000":2,"\uffff":1}'


def test_array_index_keys_come_first_in_numeric_order() -> None:
    assert ours('{"b":1,"10":2,"9":3,"01":4,"4294967295":5}') == (
        '{"9":3,"10":2,"01":4,"4294967295":5,"b":1}'
    )


def test_objects_with_the_same_keys_in_any_order_are_written_alike() -> None:
    first = ours('{"b":1,"a":{"y":2,"x":3}}')
    again = ours('{"a":{"x":3,"y":2},"b":1}')

    assert first == again == '{"a":{"x":3,"y":2},"b":1}'


def test_more_object_shapes_than_are_remembered_are_all_still_sorted() -> None:
    shapes = [{f"k{n}": 1, f"a{n}": 2, "10": 3, "9": 4} for n in range(600)]

    written = [canonical(json.loads(json.dumps(shape), parse_int=JsonNumber)) for shape in shapes]

    assert written[0] == '{"9":4,"10":3,"a0":2,"k0":1}'
    assert written[599] == '{"9":4,"10":3,"a599":2,"k599":1}'
    assert canonical(json.loads('{"k0":1,"a0":2,"10":3,"9":4}', parse_int=JsonNumber)) == written[0]


def test_nested_objects_are_sorted_and_arrays_keep_their_order() -> None:
    assert ours('{"fee":{"serviceFee":1.0,"currency":"btc"},"a":[2,1]}') == (
        '{"a":[2,1],"fee":{"currency":"btc","serviceFee":1}}'
    )


def test_numbers_keep_their_exact_text_for_business_use() -> None:
    value = parse(b'{"amount":0.1000000000000000055511151231257827,"id":12345678901234567890}')
    assert isinstance(value, dict)
    assert value["amount"] == JsonNumber("0.1000000000000000055511151231257827")
    amount = value["amount"]
    assert isinstance(amount, JsonNumber)
    assert amount.as_decimal() == Decimal("0.1000000000000000055511151231257827")
    assert canonical(value) == '{"amount":0.1,"id":12345678901234567000}'


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":"\xff"}',
        '{"a":1}'.encode("utf-16"),
        b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2),
        b"[" * 100_000,
    ],
    ids=["invalid_utf8", "utf16", "too_deep", "deeper_than_the_stack"],
)
def test_bodies_javascript_would_not_read_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse(body)


def test_js_number_formats_the_boundaries_of_positional_notation() -> None:
    assert js_number(1e-7) == "1e-7"
    assert js_number(1.5e-7) == "1.5e-7"
    assert js_number(1e21) == "1e+21"
    assert js_number(123456789e13) == "1.23456789e+21"
    assert js_number(-0.5) == "-0.5"
    assert js_number(float("nan")) == "null"


# ------------------------------------------------------------------ golden vectors


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_from_node(vector: dict[str, Any]) -> None:
    if vector["canonical"] is None:
        with pytest.raises(InvalidJson):
            ours(vector["raw"])
        return
    assert ours(vector["raw"]) == vector["canonical"]
    assert hmac_hex(SECRET, vector["canonical"]) == vector["hmac_sha512"]


def test_the_golden_vectors_are_still_what_node_says(node_reference: NodeReference) -> None:
    answers = node_reference.ask_many([v["raw"] for v in VECTORS], SECRET)
    for vector, answer in zip(VECTORS, answers, strict=True):
        assert (answer.canonical, answer.hmac) == (vector["canonical"], vector["hmac_sha512"]), (
            f"{vector['name']}: node now says {answer.canonical!r} ({answer.error})"
        )


# ------------------------------------------------------------------ random JSON vs node


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raws=st.lists(json_texts, min_size=1, max_size=25))
def test_random_json_canonicalises_exactly_like_node(
    node_reference: NodeReference, raws: list[str]
) -> None:
    answers = node_reference.ask_many(raws, SECRET)
    for raw, answer in zip(raws, answers, strict=True):
        assert answer.ok, f"generated invalid JSON {raw!r}: {answer.error}"
        assert answer.canonical is not None
        assert ours(raw) == answer.canonical, raw
        assert hmac_hex(SECRET, answer.canonical) == answer.hmac
