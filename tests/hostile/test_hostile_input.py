"""Hostile input at volume (issue 23), the CI subset: every parser and verifier an
outsider reaches, fed thousands of generated inputs, with figures printed (run with
``-s``). ``bench/bench_hostile_input.py`` runs the same battery for minutes.

``PAYGATE_BATTERY_SCALE`` multiplies the counts (``2`` runs twice as many inputs).
"""

from __future__ import annotations

import asyncio
import os

import pytest

from adapters.inbound.http import TelegramWebhook, build_app
from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from core.domain.ids import UserId
from core.ports.security import Secret
from tests.contract.http.shop import build_shop, make_deps, nowpayments_gateway, serve, signed
from tests.hostile import live, targets
from tests.hostile.battery import Figures, Target, hammer, print_figures
from tests.unit.nowpayments.node_reference import NodeReference

SCALE = float(os.environ.get("PAYGATE_BATTERY_SCALE", "1"))
SECONDS = 60.0
"""No target runs longer than this, whatever its count."""


def _run(target: Target, examples: int) -> Figures:
    return hammer(target, examples=max(1, int(examples * SCALE)), seconds=SECONDS)


def _assert_clean(rows: list[Figures]) -> None:
    findings = [row.finding for row in rows if row.finding is not None]
    assert findings == [], findings


def test_parsers_and_verifiers_never_crash_or_believe_a_forgery(
    node_reference: NodeReference,
) -> None:
    rows = [
        _run(targets.canonical_against_node(node_reference), 120),
        _run(targets.ipn_verifier(), 600),
        _run(targets.callback_parsers(), 3_000),
        _run(targets.offer_tokens(), 3_000),
        _run(targets.signed_requests(), 2_000),
    ]
    print_figures("hostile input: parsers and verifiers", rows)
    _assert_clean(rows)
    assert all(row.tried > 0 for row in rows)


async def test_the_bot_handles_or_drops_every_hostile_update() -> None:
    async with live.bot_updates() as target:
        row = await asyncio.to_thread(_run, target, 250)
    print_figures("hostile input: the bot", [row])
    _assert_clean([row])


async def test_the_webhooks_never_answer_5xx_nor_believe_an_unsigned_ipn() -> None:
    shop = build_shop(InMemoryUnitOfWorkFactory())
    async with nowpayments_gateway() as gateway, live.http_edge(shop, gateway) as target:
        row = await asyncio.to_thread(_run, target, 800)
    print_figures("hostile input: the webhooks", [row])
    _assert_clean([row])


async def _raw(port: int | None, request: bytes) -> bytes:
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(65536), 3)
        except TimeoutError:
            return b""  # still waiting for a frame that never ends: no answer, no error
    finally:
        writer.close()
        await writer.wait_closed()


def _status(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0


def _chunked(body: bytes, size: int) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


@pytest.mark.parametrize("chunk", [1, 7, 4096])
async def test_a_signed_ipn_in_chunks_without_a_length_is_taken_once(chunk: int) -> None:
    shop = build_shop(InMemoryUnitOfWorkFactory())
    async with nowpayments_gateway() as gateway, serve(build_app(make_deps(shop, gateway))) as web:
        invoice = await shop.order(UserId(7))
        body, headers = signed(shop.payload(invoice, "finished"))
        head = (
            b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n"
            b"x-nowpayments-sig: " + headers["x-nowpayments-sig"].encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        first = await _raw(web.port, head + _chunked(body, chunk))
        again = await _raw(web.port, head + _chunked(body, chunk))
    assert (_status(first), _status(again)) == (200, 200), (first[:200], again[:200])
    assert b"duplicate" in again


HOSTILE_FRAMES = {
    "a 16 KB header": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\nX-A: "
    + b"a" * 16_384
    + b"\r\nContent-Length: 2\r\n\r\n{}",
    "300 headers": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(300))
    + b"Content-Length: 2\r\n\r\n{}",
    "chunked and a length": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "a chunk size that lies": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffff\r\n{}\r\n0\r\n\r\n",
    "a chunk size that is not hex": b"POST /webhooks/telegram HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "chunked, then gzip": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "a body longer than its length": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "a BOM before the JSON": b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\n"
    b"x-nowpayments-sig: 00\r\nContent-Length: 5\r\nConnection: close\r\n\r\n\xef\xbb\xbf{}",
    "non-UTF-8 in a header": b"POST /webhooks/telegram HTTP/1.1\r\nHost: x\r\n"
    b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}",
}


async def test_hostile_framing_is_refused_without_a_server_error() -> None:
    async def accept(update: object) -> None:
        return None

    shop = build_shop(InMemoryUnitOfWorkFactory())
    telegram = TelegramWebhook(Secret(live.TELEGRAM_SECRET), accept)
    async with (
        nowpayments_gateway() as gateway,
        serve(build_app(make_deps(shop, gateway, telegram=telegram))) as web,
    ):
        statuses = {
            name: _status(await _raw(web.port, frame)) for name, frame in HOSTILE_FRAMES.items()
        }
    print_figures(
        "hostile input: HTTP framing",
        [Figures(name, 1, {str(status): 1}, 0.0, None) for name, status in statuses.items()],
    )
    # 0: no answer: the server waits for the rest of a frame that never ends (the
    # process's read timeout closes such connections; tests/e2e/test_held_connections).
    assert all(400 <= status < 500 or status == 0 for status in statuses.values()), statuses
