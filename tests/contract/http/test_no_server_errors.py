"""Nothing a client sends reaches a 500: random requests at every route, and requests
too broken for aiohttp to parse, answered without naming the server's software."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import attrs
from aiohttp import web

from adapters.inbound.http import (
    Route,
    RouteClass,
    RoutePolicy,
    SigningKeys,
    TelegramWebhook,
    build_app,
)
from adapters.inbound.http.signed_requests import (
    KEY_ID_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from core.domain.ids import UserId
from core.ports.security import Secret
from tests.contract.http.shop import Client, Shop, make_deps, serve, signed

REQUESTS = 1500
PATHS = [
    "/webhooks/nowpayments",
    "/webhooks/telegram",
    "/jobs/run",
    "/healthz",
    "/readyz",
    "/metrics",
    "/",
    "/webhooks/",
    "/webhooks/nowpayments/../telegram",
    "/%2e%2e/etc/passwd",
    "/webhooks/nowpayments?x=1&x=2",
    "/" + "a" * 2000,
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]


async def job(request: web.Request) -> web.Response:
    return web.json_response({"ran": True})


def random_text(rng: random.Random, size: int) -> str:
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(size))


def random_body(rng: random.Random, shop: Shop, invoice_payload: dict[str, object]) -> bytes:
    choice = rng.randrange(7)
    if choice == 0:
        return b""
    if choice == 1:
        return rng.randbytes(rng.randrange(1, 4096))
    if choice == 2:
        return json.dumps({"update_id": rng.choice([1, -1, "x", None, 2**70, True])}).encode()
    if choice == 3:
        return b"{" * rng.randrange(1, 50_000)
    if choice == 4:
        mutated = dict(invoice_payload)
        mutated[rng.choice(list(mutated))] = rng.choice([None, "", 1e308, -1, [], {}, "9" * 400])
        return json.dumps(mutated, default=str).encode()
    if choice == 5:
        return b'{"price_amount": 1e999999999, "payment_status": "finished"}'
    return random_text(rng, rng.randrange(1, 300)).encode()


def random_headers(rng: random.Random) -> dict[str, str]:
    pool = [
        "x-nowpayments-sig",
        "X-Telegram-Bot-Api-Secret-Token",
        KEY_ID_HEADER,
        TIMESTAMP_HEADER,
        NONCE_HEADER,
        SIGNATURE_HEADER,
        "X-Forwarded-For",
        "Content-Type",
        "Content-Encoding",
        "Accept",
    ]
    values = [
        "",
        "f" * 128,
        "1" * 12,
        "sched",
        "::ffff:1.2.3.4, junk, [::1]:80",
        "application/json",
        "gzip",
        "text/html",
        random_text(rng, 40),
    ]
    return {name: rng.choice(values) for name in rng.sample(pool, rng.randrange(len(pool)))}


async def send(client: Client, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    response = await client.request(
        method, path, headers=headers, data=body, skip_auto_headers={"Content-Type"}
    )
    await response.read()
    return response.status


async def test_random_requests_at_every_route_never_get_a_server_error(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async def accept(update: object) -> None:
        return None

    rng = random.Random(4242)
    invoice = await shop.order(UserId(5))
    payload = shop.payload(invoice, "finished")
    route = Route(
        "POST", "/jobs/run", job, "jobs.run", RoutePolicy(RouteClass.MACHINE, signed=True)
    )
    deps = attrs.evolve(
        make_deps(shop, gateway, telegram=TelegramWebhook(Secret("tg-secret"), accept)),
        signing_keys=SigningKeys({"sched": Secret("s" * 40)}),
        extra_routes=(route,),
    )
    statuses: Counter[int] = Counter()
    async with serve(build_app(deps)) as client:
        for _ in range(REQUESTS // 100):
            batch = [
                send(
                    client,
                    rng.choice(METHODS),
                    rng.choice(PATHS),
                    random_headers(rng),
                    random_body(rng, shop, payload),
                )
                for _ in range(100)
            ]
            statuses.update(await asyncio.gather(*batch))
        # The genuine notification still goes through after all that.
        body, headers = signed(payload)
        genuine = await send(client, "POST", "/webhooks/nowpayments", headers, body)

    assert sum(statuses.values()) == REQUESTS
    assert [s for s in statuses if s >= 500] == []
    assert genuine == 200


async def test_requests_aiohttp_cannot_parse_are_400_without_a_version(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    broken = [
        b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ]
    answers = []
    async with serve(build_app(make_deps(shop, gateway))) as client:
        port = client.port
        for raw in broken:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            answers.append(await reader.read(4096))
            writer.close()
            await writer.wait_closed()

    for answer in answers:
        head = answer.split(b"\r\n\r\n", 1)[0]
        assert head.startswith(b"HTTP/1.0 400") or head.startswith(b"HTTP/1.1 400")
        assert b"aiohttp" not in head and b"Python" not in head
