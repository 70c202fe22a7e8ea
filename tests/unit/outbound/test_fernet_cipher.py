"""FernetCipher: several keys, rotation, tampering, and PAYGATE_ENCRYPTION_KEYS parsing."""

from __future__ import annotations

import asyncio
import base64
import threading

import pytest
from cryptography.fernet import Fernet, InvalidToken

from adapters.outbound.crypto import ENV_VAR, FernetCipher, generate_key, rotate_all
from core.ports.security import DecryptionFailed

OLD = base64.urlsafe_b64encode(bytes(range(32))).decode()
NEW = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()
OTHER = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()
WALLET = b"TQ7n3eXampleWalletAddress0000000"


def altered(token: bytes, position: int) -> bytes:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[position] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw))


def test_the_first_key_encrypts() -> None:
    token = FernetCipher([NEW, OLD]).encrypt(WALLET)
    assert FernetCipher([NEW]).decrypt(token) == WALLET
    with pytest.raises(DecryptionFailed):
        FernetCipher([OLD]).decrypt(token)


def test_every_key_decrypts() -> None:
    from_old = FernetCipher([OLD]).encrypt(WALLET)
    from_new = FernetCipher([NEW]).encrypt(b"api-key")
    both = FernetCipher([NEW, OLD])
    assert (both.decrypt(from_old), both.decrypt(from_new)) == (WALLET, b"api-key")


def test_a_token_from_an_unknown_key_fails_with_the_library_error_as_cause() -> None:
    token = FernetCipher([OTHER]).encrypt(WALLET)
    with pytest.raises(DecryptionFailed) as caught:
        FernetCipher([NEW, OLD]).decrypt(token)
    assert isinstance(caught.value.__cause__, InvalidToken)


def test_a_rotated_token_opens_with_the_new_key_alone() -> None:
    old_token = FernetCipher([OLD]).encrypt(WALLET)
    rotated = FernetCipher([NEW, OLD]).rotate(old_token)
    assert FernetCipher([NEW]).decrypt(rotated) == WALLET
    with pytest.raises(DecryptionFailed):
        FernetCipher([OLD]).decrypt(rotated)


def test_rotation_keeps_the_time_the_value_was_first_encrypted() -> None:
    old_token = Fernet(OLD).encrypt_at_time(WALLET, 1_700_000_000)
    rotated = FernetCipher([NEW, OLD]).rotate(old_token)
    assert Fernet(NEW).extract_timestamp(rotated) == 1_700_000_000


def test_rotating_a_token_no_key_made_fails() -> None:
    with pytest.raises(DecryptionFailed):
        FernetCipher([NEW, OLD]).rotate(FernetCipher([OTHER]).encrypt(WALLET))


@pytest.mark.parametrize(
    "position", [0, 5, 20, 40, -1], ids=["version", "timestamp", "iv", "ciphertext", "mac"]
)
def test_any_altered_byte_makes_decryption_fail(position: int) -> None:
    cipher = FernetCipher([NEW])
    token = cipher.encrypt(WALLET)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(altered(token, position))


def test_a_truncated_token_fails() -> None:
    cipher = FernetCipher([NEW])
    token = cipher.encrypt(WALLET)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(token[:-4])


def test_encryption_is_randomised() -> None:
    cipher = FernetCipher([NEW])
    assert cipher.encrypt(WALLET) != cipher.encrypt(WALLET)


def test_generated_keys_are_new_and_usable() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(first) == 44
    assert FernetCipher([first]).decrypt(FernetCipher([first, second]).encrypt(b"x")) == b"x"


# ---------------------------------------------------------------- PAYGATE_ENCRYPTION_KEYS


def test_the_env_value_lists_keys_newest_first() -> None:
    cipher = FernetCipher.from_env_value(f" {NEW} , {OLD} ")
    assert FernetCipher([NEW]).decrypt(cipher.encrypt(WALLET)) == WALLET
    assert cipher.decrypt(FernetCipher([OLD]).encrypt(WALLET)) == WALLET


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_an_empty_env_value_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{ENV_VAR}: no key given"):
        FernetCipher.from_env_value(value)


def standard_base64_key() -> str:
    """A 32-byte key written with '+' and '/' instead of the url-safe '-' and '_'."""
    return base64.b64encode(b"\xfb" * 32).decode()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"{NEW},,{OLD}", "key 2 of 3 is empty"),
        (f"{NEW},{OLD},", "key 3 of 3 is empty"),
        (f"{NEW},not a key!", "key 2 of 2 is not url-safe base64"),
        (f"{NEW},not-a-fernet-key", "key 2 of 2 decodes to 12 bytes"),
        (f"{standard_base64_key()}", "key 1 of 1 is not url-safe base64"),
        (f"{NEW},{OLD}junk", "key 2 of 2 is not url-safe base64"),
        (base64.urlsafe_b64encode(b"k" * 16).decode(), "key 1 of 1 decodes to 16 bytes"),
        (f"{NEW},{OLD},{NEW}", "key 3 of 3 repeats key 1"),
        ("clé" * 15, "key 1 of 1 is not url-safe base64"),
    ],
    ids=[
        "gap",
        "trailing comma",
        "garbage",
        "wrong length",
        "standard alphabet",
        "suffix",
        "short",
        "repeat",
        "non-ascii",
    ],
)
def test_a_bad_key_is_named_by_position_and_never_echoed(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"^PAYGATE_ENCRYPTION_KEYS: ") as caught:
        FernetCipher.from_env_value(value)
    message = str(caught.value)
    assert problem in message
    for part in value.split(","):
        if part.strip():
            assert part.strip() not in message


def test_a_key_list_given_in_code_is_checked_the_same_way() -> None:
    with pytest.raises(ValueError, match=r"^the Fernet key list: key 1 of 1 decodes to 3 bytes"):
        FernetCipher(["YWJj"])
    with pytest.raises(ValueError, match=r"^the Fernet key list: no key given"):
        FernetCipher([])


# ---------------------------------------------------------------- rotate_all


class ThreadRecordingCipher(FernetCipher):
    """A real FernetCipher that notes which thread each rotation ran on."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.threads: set[int] = set()

    def rotate(self, token: bytes) -> bytes:
        self.threads.add(threading.get_ident())
        return super().rotate(token)


async def test_rotate_all_moves_every_token_to_the_new_key_in_order() -> None:
    old = FernetCipher([OLD])
    plaintexts = [f"wallet-{n}".encode() for n in range(20)]
    rotated = await rotate_all(FernetCipher([NEW, OLD]), [old.encrypt(p) for p in plaintexts])
    assert [FernetCipher([NEW]).decrypt(token) for token in rotated] == plaintexts


async def test_rotate_all_runs_off_the_event_loop_thread() -> None:
    cipher = ThreadRecordingCipher([NEW, OLD])
    tokens = [FernetCipher([OLD]).encrypt(b"a"), FernetCipher([OLD]).encrypt(b"b")]
    loop_thread = threading.get_ident()
    await rotate_all(cipher, tokens)
    assert len(cipher.threads) == 1
    assert loop_thread not in cipher.threads


async def test_rotate_all_fails_whole_and_names_the_bad_index() -> None:
    old = FernetCipher([OLD])
    tokens = [old.encrypt(b"a"), FernetCipher([OTHER]).encrypt(b"b"), old.encrypt(b"c")]
    with pytest.raises(DecryptionFailed, match=r"^token at index 1 of 3 could not be rotated"):
        await rotate_all(FernetCipher([NEW, OLD]), tokens)


async def test_rotate_all_of_nothing_is_nothing() -> None:
    assert await rotate_all(FernetCipher([NEW]), iter([])) == []


async def test_the_loop_stays_responsive_while_rotating() -> None:
    old = FernetCipher([OLD])
    tokens = [old.encrypt(b"x" * 256) for _ in range(2000)]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    rotated = await rotate_all(FernetCipher([NEW, OLD]), tokens)
    task.cancel()
    assert len(rotated) == 2000
    assert ticks > 1
