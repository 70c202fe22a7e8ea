"""One real ``paygate web`` process on loopback, for the tests that probe the edge from
outside as an attacker or a flaky network would: raw sockets, held connections,
malformed requests, and a signed IPN timed as the provider would time it.

The process sees connections from several loopback addresses (Linux routes all of
127.0.0.0/8 to the loopback interface), so per-client limits can be exercised from
one machine: 127.0.0.1 is the test's trusted proxy (the load balancer the provider
posts through), 127.0.0.2 and up are the other clients.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import aiohttp
import attrs

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from core.domain.ids import IntentId
from core.domain.order_id import OrderId
from core.domain.signing import MacKeyring
from sandbox.nowpayments.js_form import sign
from tests.e2e.emulated import NP_SECRET, open_emulators
from tests.e2e.processes import PaygateProcess, fleet_in

PROXY = "127.0.0.1"
NOWPAYMENTS_SENDER = "51.89.194.21"
PROVIDER_TIMEOUT = 3.0
"""NowPayments gives up on an IPN that is not answered within this."""


@attrs.frozen
class LoneWeb:
    process: PaygateProcess
    port: int
    keyring: MacKeyring

    @property
    def url(self) -> str:
        return f"http://{PROXY}:{self.port}"

    def signed_ipn(self) -> tuple[bytes, dict[str, str]]:
        """A genuine-looking IPN, signed with the process's IPN secret, for an order
        the process signed the id of but never saw (answered 200 and alerted)."""
        intent = IntentId(secrets.token_hex(8))
        payload = {
            "payment_id": secrets.randbelow(10**10),
            "payment_status": "finished",
            "pay_address": "bc1qexampleaddressexampleaddressexample",
            "price_amount": Decimal(10),
            "price_currency": "usd",
            "pay_amount": Decimal("0.004"),
            "actually_paid": Decimal("0.004"),
            "pay_currency": "btc",
            "order_id": str(OrderId.issue(intent, self.keyring)),
            "order_description": "tier 1, 30 days",
            "outcome_amount": Decimal("0.004"),
            "outcome_currency": "btc",
            "updated_at": int(time.time() * 1000),
        }
        body, signature = sign(payload, NP_SECRET)
        return body, {
            "Content-Type": "application/json",
            "x-nowpayments-sig": signature,
            "X-Forwarded-For": NOWPAYMENTS_SENDER,
        }

    async def post_ipn(self) -> tuple[int, float]:
        """Status and seconds taken, on a fresh connection through the proxy address
        (as a provider opens one per notification); 0 when no answer came in time."""
        body, headers = self.signed_ipn()
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=PROVIDER_TIMEOUT + 2)
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            try:
                async with http.post(
                    f"{self.url}/webhooks/nowpayments", data=body, headers=headers
                ) as answer:
                    await answer.read()
                    return answer.status, time.monotonic() - started
            except (aiohttp.ClientError, TimeoutError):
                return 0, time.monotonic() - started

    async def get(self, path: str) -> tuple[int, float]:
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=PROVIDER_TIMEOUT + 2)
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            try:
                async with http.get(f"{self.url}{path}") as answer:
                    await answer.read()
                    return answer.status, time.monotonic() - started
            except (aiohttp.ClientError, TimeoutError):
                return 0, time.monotonic() - started


@asynccontextmanager
async def lone_web(
    directory: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> AsyncIterator[LoneWeb]:
    """A migrated SQLite database and one ``paygate web`` on it (on ``port``, a free
    one unless given), started, and stopped with SIGTERM (exit status 0) after the
    test; killed if the test fails."""
    async with open_emulators(directory / "edge.db", port) as emulated:
        settings = {**emulated.env, **(env or {})}
        config = load_config(settings, dotenv=directory / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        with fleet_in(directory) as fleet:
            process = fleet.add("web", "web", settings)
            process.start()
            await process.wait_started()
            yield LoneWeb(process, emulated.port, config.keyring)
            codes = await fleet.stop_all()
            assert codes == {"web": 0}, process.tail()
