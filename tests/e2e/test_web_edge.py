"""A real ``paygate web`` process (``python -m composition.cli web``) at its edge, as
an attacker sees it: bodies larger than any notification, and forged ones shaped to
cost the most to check. Bounded in count and time, loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from tests.e2e.emulated import Emulated, open_emulators
from tests.e2e.processes import PaygateProcess, fleet_in

URL_PATH = "/webhooks/nowpayments"
FORGED = {"Content-Type": "application/json", "x-nowpayments-sig": "ab" * 64}


async def _web(
    tmp_path: Path, emulated: Emulated, extra: dict[str, str]
) -> AsyncIterator[PaygateProcess]:
    env = emulated.env | extra
    config = load_config(env, dotenv=tmp_path / "none.env")
    await asyncio.to_thread(upgrade, config.database_url, "head")
    with fleet_in(tmp_path) as fleet:
        web = fleet.add("web", "web", env)
        await fleet.start_all()
        yield web
        await fleet.stop_all()


@pytest.fixture
async def edge(tmp_path: Path) -> AsyncIterator[tuple[PaygateProcess, str]]:
    async with open_emulators(tmp_path / "edge.db") as emulated:
        async for web in _web(tmp_path, emulated, {}):
            yield web, emulated.url


async def test_a_body_over_the_cap_is_413_and_forged_worst_cases_are_refused_cheaply(
    edge: tuple[PaygateProcess, str],
) -> None:
    web, base = edge
    oversized = b'{"a":"' + b"x" * (16 * 1024) + b'"}'
    # Under the cap, and shaped to cost the most to canonicalise: thousands of tiny
    # numbers, members, escaped lone surrogates, deep nesting.
    worst = [
        b"[" + b",".join([b"1e-9"] * 3000) + b"]",
        b"{" + b",".join(b'"%d":1' % i for i in range(1500)) + b"}",
        b'["' + b"\\ud800" * 2000 + b'"]',
        b"[" * 1000 + b"]" * 1000,
    ]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}{URL_PATH}", data=oversized, headers=FORGED) as answer:
            too_large = answer.status
        refused = []
        for body in worst:
            assert len(body) <= 16 * 1024
            async with http.post(f"{base}{URL_PATH}", data=body, headers=FORGED) as answer:
                refused.append((answer.status, await answer.json()))
        async with http.get(f"{base}/healthz") as live:
            assert live.status == 200
    assert too_large == 413
    assert refused == [(401, {"error": "invalid signature"})] * len(worst)
    log = web.current_log()
    assert log.count("not the shape of a notification") == len(worst), web.tail()


async def test_in_production_a_proxy_missing_from_trusted_proxies_is_logged_once(
    tmp_path: Path,
) -> None:
    async with open_emulators(tmp_path / "proxy.db") as emulated:
        async for web in _web(tmp_path, emulated, {"PAYGATE_ENV": "production"}):
            async with aiohttp.ClientSession() as http:
                # What a reverse proxy in front of the process sends, again and again.
                for i in range(5):
                    for name, value in (
                        ("X-Forwarded-For", f"198.51.100.{i}"),
                        ("Forwarded", f"for=198.51.100.{i}"),
                    ):
                        async with http.get(
                            f"{emulated.url}/healthz", headers={name: value}
                        ) as live:
                            assert live.status == 200
            log = web.current_log()
    warnings = [line for line in log.splitlines() if "PAYGATE_TRUSTED_PROXIES" in line]
    assert len(warnings) == 1, log
    assert "WARNING" in warnings[0]
    assert "carried X-Forwarded-For, but PAYGATE_TRUSTED_PROXIES is not set" in warnings[0]
