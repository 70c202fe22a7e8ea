"""The conversation value the bot keeps in the shared store: a step and the few ints
and short texts earlier steps collected, nothing a JSON round trip could change."""

from __future__ import annotations

from typing import Any

import pytest

from core.ports.conversations import Conversation


def test_fields_are_read_back_as_the_type_they_were_given() -> None:
    conversation = Conversation("register.title", {"open": -1001, "note": "Alpha"})

    assert conversation.number("open") == -1001
    assert conversation.text("note") == "Alpha"
    assert conversation.as_dict() == {"note": "Alpha", "open": -1001}


def test_a_field_read_as_the_wrong_type_or_never_collected_is_a_key_error() -> None:
    conversation = Conversation("donation.amount", {"channel": "ch1", "keypad_chat": 7})

    with pytest.raises(KeyError):
        conversation.number("channel")
    with pytest.raises(KeyError):
        conversation.text("keypad_chat")
    with pytest.raises(KeyError):
        conversation.number("keypad_message")


def test_two_conversations_with_the_same_fields_in_any_order_are_equal() -> None:
    first = Conversation("register.title", {"open": 1, "closed": 2})
    second = Conversation("register.title", (("closed", 2), ("open", 1)))

    assert first == second
    assert hash(first) == hash(second)


def test_more_fields_extend_or_replace_the_collected_ones() -> None:
    shown = Conversation("donation.amount", {"channel": "ch1"})

    recorded = shown.with_fields(keypad_chat=7, keypad_message=9, channel="ch2")

    assert recorded.as_dict() == {"channel": "ch2", "keypad_chat": 7, "keypad_message": 9}
    assert shown.as_dict() == {"channel": "ch1"}


@pytest.mark.parametrize(
    "step", ["", "Register", "register.", ".open", "register open", "x" * 65, "register.2nd"]
)
def test_a_step_is_a_short_dotted_lowercase_name(step: str) -> None:
    with pytest.raises(ValueError, match="dotted lowercase name"):
        Conversation(step)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"paid": True}, "holds bool"),
        ({"amount": 12.5}, "holds float"),
        ({"keypad": None}, "holds NoneType"),
        ({"ids": [1, 2]}, "holds list"),
        ({"chat": 2**63}, "64 bits"),
        ({"title": "x" * 257}, "longer than 256"),
        ({"Open": 1}, "short lowercase identifier"),
        ({"open chat": 1}, "short lowercase identifier"),
        ({f"f{n}": n for n in range(17)}, "at most 16 fields"),
    ],
)
def test_only_small_ints_and_short_text_are_kept(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Conversation("register.open", fields)


def test_the_same_field_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        Conversation("register.open", (("open", 1), ("open", 2)))


def test_the_extremes_of_64_bit_ids_are_kept() -> None:
    conversation = Conversation("register.title", {"low": -(2**63), "high": 2**63 - 1})

    assert (conversation.number("low"), conversation.number("high")) == (-(2**63), 2**63 - 1)
