"""The Fernet spec's published vectors, run against the library we build on and then
against our cipher, so "Fernet" in this code base means the spec, not a guess."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken

from adapters.outbound.crypto import FernetCipher
from core.ports.security import DecryptionFailed

VECTORS: dict[str, list[dict[str, Any]]] = json.loads(
    Path(__file__).with_name("fernet_spec_vectors.json").read_text(encoding="utf-8")
)

# cryptography decodes tokens with Python's lenient base64, which drops junk after the
# padding and characters outside the alphabet; FernetCipher refuses these itself.
LENIENT_IN_LIBRARY = {"trailing characters after b64 padding", "invalid characters in b64"}
# Stored values carry no time-to-live, so these two are valid tokens for FernetCipher.
ABOUT_TTL = {"far-future TS (unacceptable clock skew)", "expired TTL"}


def at(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp())


def by_desc(
    names: Collection[str] | None = None, *, exclude: Collection[str] = ()
) -> pytest.MarkDecorator:
    """Parametrize over the spec's invalid tokens, chosen by their description."""
    chosen = [
        v
        for v in VECTORS["invalid"]
        if (names is None or v["desc"] in names) and v["desc"] not in exclude
    ]
    return pytest.mark.parametrize("vector", chosen, ids=[v["desc"] for v in chosen])


def test_the_fixture_holds_every_published_vector() -> None:
    assert [len(VECTORS[kind]) for kind in ("generate", "verify", "invalid")] == [1, 1, 11]
    assert {v["desc"] for v in VECTORS["invalid"]} >= LENIENT_IN_LIBRARY | ABOUT_TTL


@pytest.mark.parametrize("vector", VECTORS["generate"])
def test_the_library_generates_the_spec_token_from_fixed_time_and_iv(
    vector: dict[str, Any],
) -> None:
    fernet = Fernet(vector["secret"])
    # The IV is random in every public method; the private one is the only way to fix it.
    token = fernet._encrypt_from_parts(
        vector["src"].encode(), at(vector["now"]), bytes(vector["iv"])
    )
    assert token.decode() == vector["token"]


@pytest.mark.parametrize("vector", VECTORS["generate"])
def test_encrypt_at_time_writes_the_spec_header(vector: dict[str, Any]) -> None:
    token = Fernet(vector["secret"]).encrypt_at_time(vector["src"].encode(), at(vector["now"]))
    raw = base64.urlsafe_b64decode(token)
    expected = base64.urlsafe_b64decode(vector["token"])
    assert raw[:9] == expected[:9]  # version byte 0x80 and the big-endian timestamp
    assert len(raw) == len(expected)


@pytest.mark.parametrize("vector", VECTORS["verify"])
def test_the_library_verifies_the_spec_token_at_the_spec_time(vector: dict[str, Any]) -> None:
    fernet = Fernet(vector["secret"])
    plain = fernet.decrypt_at_time(vector["token"], vector["ttl_sec"], at(vector["now"]))
    assert plain == vector["src"].encode()


@pytest.mark.parametrize("vector", VECTORS["verify"])
def test_our_cipher_decrypts_the_spec_token(vector: dict[str, Any]) -> None:
    cipher = FernetCipher([vector["secret"]])
    assert cipher.decrypt(vector["token"].encode()) == vector["src"].encode()


@by_desc(exclude=LENIENT_IN_LIBRARY)
def test_the_library_rejects_the_spec_invalid_token(vector: dict[str, Any]) -> None:
    fernet = Fernet(vector["secret"])
    with pytest.raises(InvalidToken):
        fernet.decrypt_at_time(vector["token"], vector["ttl_sec"], at(vector["now"]))


@by_desc(exclude=ABOUT_TTL)
def test_our_cipher_rejects_the_spec_invalid_token(vector: dict[str, Any]) -> None:
    cipher = FernetCipher([vector["secret"]])
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(vector["token"].encode())
    with pytest.raises(DecryptionFailed):
        cipher.rotate(vector["token"].encode())


@by_desc(ABOUT_TTL)
def test_a_stored_value_never_expires_in_our_cipher(vector: dict[str, Any]) -> None:
    # Both tokens carry a valid MAC over an empty plaintext; only their times are off.
    assert FernetCipher([vector["secret"]]).decrypt(vector["token"].encode()) == b""
