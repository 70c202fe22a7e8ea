"""Signed machine requests: key id, timestamp window, signature, then the nonce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.inbound.http.signed_requests import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RequestRefused,
    SignedRequestVerifier,
    SigningKeys,
    sign_request,
)
from adapters.outbound.memory import FrozenClock, InMemoryNonceStore
from core.ports.security import Secret

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = Secret("scheduler-key-2026-0123456789abcdef")
OLD_KEY = Secret("scheduler-key-2025-0123456789abcdef")
BODY = b'{"job":"expire"}'
PATH = "/jobs/expire?batch=100"


class Harness:
    def __init__(self) -> None:
        self.clock = FrozenClock(NOW)
        self.nonces = InMemoryNonceStore(self.clock)
        keys = SigningKeys({"k2026": KEY, "k2025": OLD_KEY})
        self.verifier = SignedRequestVerifier(keys, self.nonces, self.clock, window_seconds=300)

    def headers(
        self,
        key_id: str = "k2026",
        key: Secret = KEY,
        timestamp: float = NOW.timestamp(),
        nonce: str = "nonce-0000000000000001",
    ) -> dict[str, str]:
        return sign_request(key_id, key, "POST", PATH, BODY, timestamp=int(timestamp), nonce=nonce)

    async def verify(
        self, headers: dict[str, str], body: bytes = BODY, path: str = PATH, method: str = "POST"
    ) -> str:
        return await self.verifier.verify(method, path, headers, body)


async def reason(
    harness: Harness,
    headers: dict[str, str],
    body: bytes = BODY,
    path: str = PATH,
    method: str = "POST",
) -> str:
    with pytest.raises(RequestRefused) as refused:
        await harness.verify(headers, body, path, method)
    return refused.value.reason


async def test_a_correctly_signed_fresh_request_names_its_key() -> None:
    harness = Harness()

    assert await harness.verify(harness.headers()) == "k2026"


async def test_both_keys_of_a_rotation_are_accepted() -> None:
    harness = Harness()

    assert await harness.verify(harness.headers("k2025", OLD_KEY)) == "k2025"


async def test_a_replayed_nonce_is_refused() -> None:
    harness = Harness()
    headers = harness.headers()
    await harness.verify(headers)

    assert await reason(harness, headers) == "replayed"


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)]
)
async def test_the_window_is_300_seconds_both_ways(offset: int, accepted: bool) -> None:
    harness = Harness()
    headers = harness.headers(timestamp=NOW.timestamp() + offset)

    if accepted:
        assert await harness.verify(headers) == "k2026"
    else:
        assert await reason(harness, headers) == "stale"


async def test_a_nonce_is_remembered_as_long_as_its_request_could_be_accepted() -> None:
    harness = Harness()
    # Stamped 300 s ahead: acceptable until 600 s from now.
    headers = harness.headers(timestamp=NOW.timestamp() + 300)
    await harness.verify(headers)

    harness.clock.advance(timedelta(seconds=600))

    assert await reason(harness, headers) == "replayed"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ((b'{"job":"expire","all":true}', PATH, "POST"), "bad_signature"),
        ((BODY, "/jobs/expire?batch=100000", "POST"), "bad_signature"),
        ((BODY, PATH, "PUT"), "bad_signature"),
    ],
)
async def test_the_signature_covers_method_path_query_and_body(
    change: tuple[bytes, str, str], expected: str
) -> None:
    harness = Harness()
    body, path, method = change

    assert await reason(harness, harness.headers(), body, path, method) == expected


async def test_a_key_signing_under_another_keys_id_is_refused() -> None:
    harness = Harness()

    assert await reason(harness, harness.headers("k2026", OLD_KEY)) == "bad_signature"


async def test_an_unknown_key_id_is_refused() -> None:
    harness = Harness()

    assert await reason(harness, harness.headers("k1999")) == "unknown_key"


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        (TIMESTAMP_HEADER, "", "missing"),
        (TIMESTAMP_HEADER, "1772366400.5", "malformed"),
        (TIMESTAMP_HEADER, "-1772366400", "malformed"),
        (NONCE_HEADER, "short", "malformed"),
        (NONCE_HEADER, "nonce with spaces 0000", "malformed"),
        (SIGNATURE_HEADER, "zz" * 32, "malformed"),
        (SIGNATURE_HEADER, "ab" * 31, "malformed"),
    ],
)
async def test_missing_or_malformed_headers_are_refused(
    header: str, value: str, expected: str
) -> None:
    harness = Harness()
    headers = harness.headers() | {header: value}

    assert await reason(harness, headers) == expected


async def test_a_refused_request_does_not_burn_its_nonce() -> None:
    harness = Harness()
    forged = harness.headers(key=Secret("not-the-key-but-long-enough-0123456"))
    assert await reason(harness, forged) == "bad_signature"

    assert await harness.verify(harness.headers()) == "k2026"


async def test_the_hex_signature_is_read_in_either_case() -> None:
    harness = Harness()
    headers = harness.headers()
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].upper()

    assert await harness.verify(headers) == "k2026"


def test_short_keys_and_odd_key_ids_are_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SigningKeys({"k": Secret("short")})
    with pytest.raises(ValueError, match="key id"):
        SigningKeys({"bad id": KEY})


def test_the_keys_never_show_in_a_repr() -> None:
    assert KEY.reveal() not in repr(SigningKeys({"k2026": KEY}))
