from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import attrs
import pytest
from aiohttp import web

from sandbox.nowpayments import NowPaymentsEmulator
from tests.unit.nowpayments.node_reference import NodeReference, require_node

API_KEY = "emulator-api-key-1234"
IPN_SECRET = "emulator-ipn-secret-5678"


@pytest.fixture(scope="session")
def node_reference() -> Iterator[NodeReference]:
    reference = NodeReference(require_node())
    yield reference
    reference.close()


@pytest.fixture
async def emulator() -> AsyncIterator[NowPaymentsEmulator]:
    emulator = NowPaymentsEmulator(api_key=API_KEY, ipn_secret=IPN_SECRET)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@attrs.frozen
class ReceivedIpn:
    body: bytes
    headers: dict[str, str]


@attrs.define
class IpnReceiver:
    """Our side of the webhook: records what arrives and answers ``answer_status``."""

    url: str = ""
    received: list[ReceivedIpn] = attrs.Factory(list)
    answer_status: int = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(ReceivedIpn(await request.read(), dict(request.headers)))
        return web.Response(status=self.answer_status, text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[IpnReceiver]:
    receiver = IpnReceiver()
    app = web.Application()
    app.router.add_post("/webhooks/nowpayments", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/webhooks/nowpayments"
    yield receiver
    await runner.cleanup()
