"""What an attacker, a broken proxy or a confused provider may send, as Hypothesis
strategies: JSON texts bent in every way the issue lists (duplicated keys, 1e400,
NaN, -0, deep nesting, a BOM, non-UTF-8, truncation, stray bytes), IPN documents with
odd fields, callback data and deep-link tokens near the real shapes, and Telegram
updates of every kind the bot takes with fields that lie about their types."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from adapters.catalog import buttons
from adapters.outbound.nowpayments.canonical import MAX_DEPTH
from tests.unit.nowpayments.json_texts import json_texts

__all__ = [
    "callback_data",
    "hostile_bodies",
    "hostile_texts",
    "ipn_documents",
    "offer_texts",
    "telegram_updates",
]

ODD_NUMBERS = (
    "1e400", "-1e400", "1E+400", "1e-400", "NaN", "-NaN", "Infinity", "-Infinity", "-0",
    "-0.0", "0e0", "-0e-0", "01", "1.", ".5", "+1", "0x10", "1e", "--1", "1_000",
    "123456789012345678901234567890e-30", "4.9e-324", "2.5e-324", "1.7976931348623159e308",
)  # fmt: skip
ODD_STRINGS = (
    '"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"', '"\\x41"', '"\\u12"', "'single'",
    '"tab\there"', '"\\/"', '"__proto__"', '"constructor"',
)  # fmt: skip


def _duplicate_keys(text: str, _: int) -> str:
    return '{"a":' + text + ',"a":' + text + ',"b":1,"b":' + text + "}"


def _odd_number(text: str, pick: int) -> str:
    return "[" + text + "," + ODD_NUMBERS[pick % len(ODD_NUMBERS)] + "]"


def _odd_string(text: str, pick: int) -> str:
    odd = ODD_STRINGS[pick % len(ODD_STRINGS)]
    return "{" + odd + ":" + text + ',"k":' + odd + "}"


def _nested(text: str, pick: int) -> str:
    depth = (MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1_000, 20_000)[pick % 6]
    opener, closer = ("[", "]") if pick % 2 else ('{"x":', "}")
    return opener * depth + text + closer * depth


def _bom(text: str, _: int) -> str:
    return "\ufeff" + text


def _truncated(text: str, pick: int) -> str:
    return text[: pick % (len(text) + 1)]


def _stray(text: str, pick: int) -> str:
    at = pick % (len(text) + 1)
    stray = '\x00 ,:[]{}"\\\u00a0\u2028\x0b/*e-.'[pick % 17]
    return text[:at] + stray + text[at:]


def _dropped(text: str, pick: int) -> str:
    if not text:
        return text
    at = pick % len(text)
    return text[:at] + text[at + 1 :]


def _trailing(text: str, pick: int) -> str:
    return text + ("x", ",", " 1", "}", "]", "//", "\x00")[pick % 7]


def _lone_surrogate(text: str, pick: int) -> str:
    # A raw surrogate: no UTF-8 encoder writes it, so the body is not UTF-8.
    return text + ("\ud800", "\udfff")[pick % 2]


MUTATIONS = (
    _duplicate_keys, _odd_number, _odd_string, _nested, _bom, _truncated, _stray,
    _dropped, _trailing, _lone_surrogate,
)  # fmt: skip

hostile_texts: st.SearchStrategy[str] = st.one_of(
    json_texts,
    st.builds(
        lambda text, mutation, pick: mutation(text, pick),
        json_texts,
        st.sampled_from(MUTATIONS),
        st.integers(min_value=0, max_value=10**6),
    ),
    st.builds(
        lambda text, first, second, a, b: second(first(text, a), b),
        json_texts,
        st.sampled_from(MUTATIONS),
        st.sampled_from(MUTATIONS),
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=0, max_value=10**6),
    ),
)
"""JSON texts, most of them broken or odd (a str; raw surrogates make it non-UTF-8)."""

hostile_bodies: st.SearchStrategy[bytes] = st.one_of(
    hostile_texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=512),
    st.builds(
        lambda text, junk, at: (lambda body: body[:at] + junk + body[at:])(
            text.encode("utf-8", "surrogatepass")
        ),
        json_texts,
        st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x80", b"\xf8"]),
        st.integers(min_value=0, max_value=64),
    ),
)
"""Request bodies: hostile texts as bytes, random bytes, and JSON with invalid UTF-8
(overlong forms, encoded surrogates, a BOM in the middle) spliced in."""

STATUSES = (
    "waiting", "confirming", "confirmed", "sending", "partially_paid", "finished",
    "failed", "refunded", "expired", "FINISHED", "", "finished ",
)  # fmt: skip
_ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=40),
    st.none(),
    st.booleans(),
    st.floats(),
)
_amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.sampled_from(ODD_NUMBERS),
    st.integers().map(str),
)


def _document(fields: dict[str, Any], amounts: dict[str, str]) -> str:
    text = json.dumps(fields, default=str)
    extra = ",".join(f"{json.dumps(name)}:{raw}" for name, raw in amounts.items())
    if not extra:
        return text
    return text[:-1] + ("," if fields else "") + extra + "}"


ipn_documents: st.SearchStrategy[str] = st.builds(
    _document,
    st.fixed_dictionaries(
        {"payment_id": _ids, "payment_status": st.sampled_from(STATUSES)},
        optional={
            "order_id": _ids,
            "invoice_id": _ids,
            "price_currency": st.sampled_from(["usd", "USD", "eur", "", "x" * 50]),
            "pay_currency": st.sampled_from(["btc", "usdttrc20", "", "BTC"]),
            "order_description": st.text(max_size=60),
            "purchase_id": _ids,
            "outcome_currency": st.text(max_size=8),
        },
    ),
    st.dictionaries(
        st.sampled_from(
            ["price_amount", "pay_amount", "actually_paid", "outcome_amount", "fee", "amount"]
        ),
        _amounts,
        max_size=4,
    ),
)
"""IPN-shaped JSON texts with lying field types and odd amounts written raw."""

_PREFIXES = (
    *tuple(getattr(buttons, name) for name in dir(buttons) if name.endswith("_PREFIX")),
    "",
    "/start ",
    "x:",
)
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEF0123456789_-"
_callback_alphabet = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S", "Zs"), include_characters=":_-0123456789"
)
callback_data: st.SearchStrategy[str] = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(_PREFIXES),
    st.one_of(
        st.text(_callback_alphabet, max_size=70),
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyzABCDEF0123456789_-", max_size=24), max_size=6
        ).map(":".join),
    ),
)
"""Callback data near every prefix the bot's buttons use, and beyond Telegram's 64
bytes."""

offer_texts: st.SearchStrategy[str] = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", max_size=30), min_size=1, max_size=5
    ).map("_".join),
)
"""``/start`` payloads: offer tokens' shape (``<channel>_<tier>_<tag>``) and anything."""

_users = st.sampled_from([2001, 2002, 2003, 1000, 7, -1, 0, 2**53])
_chats = st.sampled_from([-1001, -1002, 2001, 1000, -100999, 0])
_texts = st.one_of(
    st.sampled_from(
        [
            "/start", "/help", "/channels", "/tiers", "/tiers 1 1=10USD/30d", "/donations",
            "/donations 1 5-500", "/language", "/language xx", "/wording", "/dashboard",
            "/refund", "/wallet", "/owners", "/status", "/cancel", "/register", "/pause",
            "/resume", "/broadcast", "/repost", "/coupon new", "/coupon off", "/coupons",
            "/redeem", "/start c-",
        ]
    ).flatmap(lambda command: st.text(max_size=40).map(lambda rest: f"{command} {rest}".strip())),
    offer_texts.map(lambda token: f"/start {token}"),
    st.text(max_size=200),
)  # fmt: skip
_user = st.fixed_dictionaries(
    {"id": _users, "is_bot": st.booleans(), "first_name": st.text(max_size=20)},
    optional={"username": st.text(max_size=20), "language_code": st.text(max_size=8)},
)
_chat = st.fixed_dictionaries(
    {"id": _chats, "type": st.sampled_from(["private", "channel", "supergroup", "group", "x"])},
    optional={"title": st.text(max_size=20)},
)
_message = st.fixed_dictionaries(
    {"message_id": st.integers(1, 10**6), "date": st.integers(0, 2**31), "chat": _chat},
    optional={"from": _user, "text": _texts},
)
_member = st.fixed_dictionaries(
    {
        "status": st.sampled_from(
            ["creator", "administrator", "member", "restricted", "left", "kicked", "x"]
        ),
        "user": _user,
    }
)
_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_update_bodies = st.one_of(
    _message.map(lambda m: {"message": m}),
    st.fixed_dictionaries(
        {"id": st.text(max_size=10), "from": _user, "chat_instance": st.text(max_size=10)},
        optional={"data": callback_data, "message": _message},
    ).map(lambda q: {"callback_query": q}),
    st.fixed_dictionaries(
        {"chat": _chat, "from": _user, "user_chat_id": _users, "date": st.integers(0, 2**31)},
        optional={"invite_link": st.dictionaries(st.text(max_size=12), st.text(max_size=30))},
    ).map(lambda r: {"chat_join_request": r}),
    st.fixed_dictionaries(
        {
            "chat": _chat,
            "from": _user,
            "date": st.integers(0, 2**31),
            "old_chat_member": _member,
            "new_chat_member": _member,
        }
    ).flatmap(
        lambda m: st.sampled_from(["my_chat_member", "chat_member"]).map(lambda kind: {kind: m})
    ),
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=10),
            "from": _user,
            "currency": st.sampled_from(["XTR", "USD", ""]),
            "total_amount": st.integers(-10, 10**6),
            "invoice_payload": st.text(max_size=130),
        }
    ).map(lambda q: {"pre_checkout_query": q}),
    st.dictionaries(
        st.text(max_size=20),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    ),
)
telegram_updates: st.SearchStrategy[dict[str, Any]] = st.builds(
    lambda update_id, body: {"update_id": update_id, **body},
    st.integers(min_value=0, max_value=2**40),
    _update_bodies,
)
"""Updates of every kind the bot takes, from known and unknown people, whose fields
are often the wrong type or out of range; and dictionaries of anything."""
