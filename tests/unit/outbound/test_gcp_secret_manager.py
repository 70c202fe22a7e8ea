"""GcpSecretManagerStore against a small Secret Manager speaking the REST shape on
127.0.0.1: the path, the bearer token, the base64 payload and its CRC32C, errors, cache."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from adapters.outbound.secrets import (
    GcpSecretManagerStore,
    SecretAccessDenied,
    SecretStoreRefused,
)
from adapters.outbound.secrets.crc32c import crc32c
from core.ports.errors import NotFound, Unavailable

PROJECT = "demo-project"
TOKEN = "123456:AAE-bot-token-value"


@attrs.define
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.define
class FakeSecretManager:
    """Answers ``GET /v1/projects/{p}/secrets/{s}/versions/latest:access`` like Google."""

    payloads: dict[str, bytes] = attrs.field(factory=dict)
    replies: dict[str, list[Reply]] = attrs.field(factory=dict)
    """Canned answers per secret id, used (and removed) before the payloads."""
    hang: set[str] = attrs.field(factory=set)
    release: asyncio.Event = attrs.field(factory=asyncio.Event)
    seen: list[tuple[str, str | None]] = attrs.field(factory=list)

    def google_error(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"error": {"code": status, "message": message, "status": code}})

    async def access(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, request.headers.get("Authorization")))
        project = request.match_info["project"]
        secret = request.match_info["secret"]
        if project != PROJECT or request.match_info["version"] != "latest:access":
            return self.json(self.google_error(400, "INVALID_ARGUMENT", "bad resource name"))
        if secret in self.hang:
            await self.release.wait()
        queued = self.replies.get(secret)
        if queued:
            return self.json(queued.pop(0))
        if secret not in self.payloads:
            return self.json(
                self.google_error(
                    404,
                    "NOT_FOUND",
                    f"Secret [projects/123/secrets/{secret}] not found or has no versions.",
                )
            )
        data = self.payloads[secret]
        return self.json(
            Reply(
                200,
                {
                    "name": f"projects/123/secrets/{secret}/versions/4",
                    "payload": {
                        "data": base64.b64encode(data).decode(),
                        "dataCrc32c": str(crc32c(data)),
                    },
                },
            )
        )

    @staticmethod
    def json(reply: Reply) -> web.Response:
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        return web.Response(
            status=reply.status, text=body, content_type="application/json", headers=reply.headers
        )


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeSecretManager, str]]:
    manager = FakeSecretManager()
    app = web.Application()
    app.router.add_get("/v1/projects/{project}/secrets/{secret}/versions/{version}", manager.access)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield manager, f"http://127.0.0.1:{port}"
    manager.release.set()
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class Tokens:
    """An access-token provider that hands out a new token per call, as after refreshes."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        return f"ya29.token-{self.calls}"


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_store(
    session: aiohttp.ClientSession, base_url: str, **options: Any
) -> GcpSecretManagerStore:
    options.setdefault("cache_ttl", 0)
    return GcpSecretManagerStore(session, PROJECT, Tokens(), base_url=base_url, **options)


async def test_the_latest_version_is_read_with_a_bearer_token(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads["bot_token"] = TOKEN.encode()
    secret = await make_store(session, base_url).get("bot_token")
    assert secret.reveal() == TOKEN
    assert manager.seen == [
        (f"/v1/projects/{PROJECT}/secrets/bot_token/versions/latest:access", "Bearer ya29.token-1")
    ]


async def test_the_prefix_is_put_before_the_secret_id(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads["paygate-ipn_secret"] = b"ipn"
    store = make_store(session, base_url, secret_prefix="paygate-")
    assert (await store.get("ipn_secret")).reveal() == "ipn"
    assert manager.seen[0][0].endswith("/secrets/paygate-ipn_secret/versions/latest:access")


async def test_text_that_is_not_ascii_survives_the_base64_payload(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads["greeting"] = "Grüße ~?>".encode()
    assert (await make_store(session, base_url).get("greeting")).reveal() == "Grüße ~?>"


async def test_a_missing_secret_is_not_found_naming_the_resource(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    _, base_url = fake
    with pytest.raises(NotFound) as caught:
        await make_store(session, base_url).get("bot_token")
    message = str(caught.value)
    assert message.startswith(
        f"secret 'bot_token' is missing: Secret Manager has no "
        f"projects/{PROJECT}/secrets/bot_token/versions/latest (NOT_FOUND: Secret ["
    )


@pytest.mark.parametrize(("status", "code"), [(401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED")])
async def test_refused_credentials_are_a_clear_error_not_a_retry(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession, status: int, code: str
) -> None:
    manager, base_url = fake
    manager.replies["bot_token"] = [
        manager.google_error(status, code, "Permission 'secretmanager.versions.access' denied")
    ]
    with pytest.raises(SecretAccessDenied) as caught:
        await make_store(session, base_url).get("bot_token")
    message = str(caught.value)
    assert f"(HTTP {status}, {code}: Permission 'secretmanager.versions.access' denied)" in message
    assert "needs secretmanager.versions.access" in message
    assert not isinstance(caught.value, Unavailable)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_is_unavailable(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession, status: int
) -> None:
    manager, base_url = fake
    manager.replies["bot_token"] = [Reply(status, "<html>oops</html>")]
    with pytest.raises(Unavailable, match=rf"\(HTTP {status}, no error detail\)$") as caught:
        await make_store(session, base_url).get("bot_token")
    assert caught.value.retry_after is None


async def test_rate_limiting_is_unavailable_with_the_wait_google_asked_for(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    throttled = manager.google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    throttled.headers["Retry-After"] = "7"
    manager.replies["bot_token"] = [throttled]
    with pytest.raises(Unavailable) as caught:
        await make_store(session, base_url).get("bot_token")
    assert caught.value.retry_after == 7.0


async def test_another_client_error_is_refused_with_googles_reason(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.replies["bot_token"] = [
        manager.google_error(400, "FAILED_PRECONDITION", "SecretVersion is in DISABLED state.")
    ]
    with pytest.raises(SecretStoreRefused) as caught:
        await make_store(session, base_url).get("bot_token")
    assert str(caught.value).endswith(
        "(HTTP 400, FAILED_PRECONDITION: SecretVersion is in DISABLED state.)"
    )
    assert not isinstance(caught.value, SecretAccessDenied)


async def test_a_slow_answer_times_out_as_unavailable(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.hang.add("bot_token")
    with pytest.raises(Unavailable, match=r"did not answer for .*bot_token.* within 0.2 s$"):
        await make_store(session, base_url, timeout=0.2).get("bot_token")


async def test_an_unreachable_service_is_unavailable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    store = make_store(session, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(Unavailable, match=r"^Secret Manager cannot be reached for "):
        await store.get("bot_token")


async def test_a_corrupted_payload_is_unavailable_and_not_shown(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    payload = {"data": base64.b64encode(TOKEN.encode()).decode(), "dataCrc32c": "12345"}
    manager.replies["bot_token"] = [Reply(200, {"name": "n", "payload": payload})]
    with pytest.raises(Unavailable, match=r"arrived corrupted \(CRC32C mismatch\)$") as caught:
        await make_store(session, base_url).get("bot_token")
    assert TOKEN not in str(caught.value)


async def test_a_payload_without_checksum_in_unpadded_url_safe_base64_is_read(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    # Proto3 JSON parsers accept either base64 alphabet, padded or not; so do we.
    manager, base_url = fake
    data = "Pz4_fn4"  # b"?>?~~": "Pz4/fn4=" in the standard alphabet
    manager.replies["bot_token"] = [Reply(200, {"payload": {"data": data}})]
    assert (await make_store(session, base_url).get("bot_token")).reveal() == "?>?~~"


async def test_a_payload_that_is_not_utf8_is_refused(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads["bot_token"] = b"\xfb\xff?"
    with pytest.raises(SecretStoreRefused, match=r"bot_token/versions/latest is not UTF-8 text$"):
        await make_store(session, base_url).get("bot_token")


@pytest.mark.parametrize(
    "body",
    [
        "<html>captive portal</html>",
        {"name": "n"},
        {"payload": {"data": 5}},
        {"payload": []},
        {"payload": {"data": "***"}},
        {"payload": {"data": "aGk=", "dataCrc32c": "x"}},
    ],
)
async def test_a_200_without_a_readable_payload_is_unavailable(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession, body: Any
) -> None:
    manager, base_url = fake
    manager.replies["bot_token"] = [Reply(200, body)]
    with pytest.raises(Unavailable, match=r"has no readable payload$"):
        await make_store(session, base_url).get("bot_token")


async def test_values_are_cached_for_the_ttl_then_read_again(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    clock = Monotonic()
    store = make_store(session, base_url, cache_ttl=30, monotonic=clock)
    manager.payloads["bot_token"] = b"first"
    assert (await store.get("bot_token")).reveal() == "first"
    manager.payloads["bot_token"] = b"rotated"
    clock.now += 29.9
    assert (await store.get("bot_token")).reveal() == "first"
    clock.now += 0.2
    assert (await store.get("bot_token")).reveal() == "rotated"
    assert len(manager.seen) == 2


async def test_without_a_cache_every_call_asks_with_a_fresh_token(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads["bot_token"] = b"v"
    store = make_store(session, base_url, cache_ttl=0)
    for _ in range(3):
        await store.get("bot_token")
    assert [auth for _, auth in manager.seen] == [f"Bearer ya29.token-{n}" for n in (1, 2, 3)]


async def test_errors_are_not_cached(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.replies["bot_token"] = [Reply(503, "")]
    manager.payloads["bot_token"] = b"ok"
    store = make_store(session, base_url, cache_ttl=30, monotonic=Monotonic())
    with pytest.raises(Unavailable):
        await store.get("bot_token")
    assert (await store.get("bot_token")).reveal() == "ok"


async def test_each_secret_is_cached_on_its_own(
    fake: tuple[FakeSecretManager, str], session: aiohttp.ClientSession
) -> None:
    manager, base_url = fake
    manager.payloads |= {"a": b"1", "b": b"2"}
    store = make_store(session, base_url, cache_ttl=30, monotonic=Monotonic())
    got = [(await store.get(name)).reveal() for name in ("a", "b", "a", "b")]
    assert got == ["1", "2", "1", "2"]
    assert len(manager.seen) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"project": "Bad_Project"}, "not a GCP project id or number"),
        ({"secret_prefix": "a/b"}, "a secret prefix is up to 100"),
        ({"cache_ttl": -1}, "cache_ttl is zero"),
        ({"timeout": 0}, "timeout is a positive number"),
    ],
)
async def test_bad_settings_are_refused_at_construction(
    session: aiohttp.ClientSession, options: dict[str, Any], message: str
) -> None:
    project = options.pop("project", PROJECT)
    with pytest.raises(ValueError, match=message):
        GcpSecretManagerStore(session, project, Tokens(), **options)


def test_crc32c_matches_the_published_check_values() -> None:
    # The catalogue's check value, and RFC 3720 appendix B.4's iSCSI vectors.
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
