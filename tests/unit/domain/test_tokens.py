import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import InvalidOrderId, InvalidToken
from core.domain.ids import ChannelId, IntentId
from core.domain.offer_token import OfferToken
from core.domain.order_id import OrderId
from core.domain.signing import MacKeyring

KEY = MacKeyring((b"k" * 32,))
OTHER = MacKeyring((b"o" * 32,))


def test_offer_token_round_trips_and_fits_a_deep_link() -> None:
    token = OfferToken(ChannelId("A" * 32), 3).encode(KEY)
    assert len(token) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert OfferToken.decode(token, KEY) == OfferToken(ChannelId("A" * 32), 3)


def test_offer_token_for_another_tier_does_not_verify() -> None:
    token = OfferToken(ChannelId("abc"), 1).encode(KEY)
    forged = token.replace("abc_1_", "abc_2_", 1)
    with pytest.raises(InvalidToken):
        OfferToken.decode(forged, KEY)


def test_offer_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken):
        OfferToken.decode(OfferToken(ChannelId("abc"), 1).encode(OTHER), KEY)


def test_tokens_from_the_previous_key_verify_during_rotation() -> None:
    rotated = MacKeyring((b"n" * 32, b"k" * 32))
    old = OfferToken(ChannelId("abc"), 2).encode(KEY)
    assert OfferToken.decode(old, rotated).tier == 2


@pytest.mark.parametrize(
    "text", ["", "abc", "abc_1", "abc_9_xxxxxxxxxxxxxxxxxxxxxx", "a b_1_x", "x" * 65, "ab.c_1_zz"]
)
def test_malformed_offer_tokens_are_refused(text: str) -> None:
    with pytest.raises(InvalidToken):
        OfferToken.decode(text, KEY)


@given(st.text(max_size=80))
def test_no_arbitrary_text_decodes_as_an_offer(text: str) -> None:
    with pytest.raises(InvalidToken):
        OfferToken.decode(text, KEY)


def test_order_id_round_trips() -> None:
    order = OrderId.issue(IntentId("f00d"), KEY)
    assert OrderId.parse(str(order), KEY) == order


def test_edited_order_id_is_refused() -> None:
    text = str(OrderId.issue(IntentId("f00d"), KEY))
    with pytest.raises(InvalidOrderId, match="tag=mismatch"):
        OrderId.parse("f00e" + text[4:], KEY)


@pytest.mark.parametrize("text", ["", "f00d", "f00d_short", "user1_channel2", "a-b_" + "x" * 22])
def test_malformed_order_ids_are_refused(text: str) -> None:
    with pytest.raises(InvalidOrderId):
        OrderId.parse(text, KEY)


def test_keyring_refuses_short_keys_and_hides_them() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MacKeyring((b"short",))
    assert "k" * 32 not in repr(KEY)


def test_short_tags_are_their_own_size_and_never_accepted_for_a_longer_one() -> None:
    short = KEY.sign("purpose", "message", size=12)
    full = KEY.sign("purpose", "message")

    assert (len(short), len(full)) == (16, 22)
    assert KEY.verify("purpose", "message", short, size=12)
    assert not KEY.verify("purpose", "message", short)
    assert not KEY.verify("purpose", "message", full[:16])
    assert not OTHER.verify("purpose", "message", short, size=12)


@pytest.mark.parametrize("size", [8, 11, 17])
def test_tags_shorter_than_96_bits_or_longer_than_the_ring_makes_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="a tag is 12 to 16 bytes"):
        KEY.sign("purpose", "message", size=size)
