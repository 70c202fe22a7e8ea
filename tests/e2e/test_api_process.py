"""``paygate web`` with ``PAYGATE_API=on``, as composed for production (configuration
from the environment, SQL database, a real listener): an API token made through the
process's own use cases is exchanged over HTTP and calls the API (each group of
operations, over the SQL stores); revoked, it stops."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from composition.processes.process import Process, Roles, start_process
from composition.processes.run import starters_for
from core.domain.ids import UserId
from core.services.dashboard import Viewer
from tests.e2e.emulated import open_emulators

OPERATOR = UserId(424242)
KEY = base64.urlsafe_b64encode(b"e2e-api-signing-key-0123456789abcdef").decode()


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[tuple[Process, str]]:
    async with open_emulators(tmp_path / "api.db") as emulated:
        env = emulated.env | {
            "PAYGATE_API": "on",
            "PAYGATE_API_SIGNING_KEYS": KEY,
            "PAYGATE_OPERATOR_IDS": str(OPERATOR),
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        process = await start_process(
            config, Roles(web=True), starters=starters_for(Roles(web=True))
        )
        try:
            yield process, emulated.url
        finally:
            await process.close()


async def test_the_api_of_a_web_process_answers_a_token_and_stops_when_revoked(
    web: tuple[Process, str],
) -> None:
    process, base = web
    viewer = Viewer(OPERATOR, operator=True)
    created = await process.services.api_tokens.create(viewer, "e2e", "read")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/channels") as anonymous:
            assert anonymous.status == 401
            assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        async with http.post(
            f"{base}/api/v1/token", headers={"Authorization": f"Bearer {created.secret}"}
        ) as exchanged:
            assert exchanged.status == 200, await exchanged.text()
            access = (await exchanged.json())["access_token"]
        headers = {"Authorization": f"Bearer {access}"}
        async with http.get(f"{base}/api/v1/channels", headers=headers) as listed:
            assert listed.status == 200
            assert await listed.json() == {"channels": []}
        # The other groups over the process's SQL stores: empty, but read through them.
        for path, expected in (
            ("/api/v1/subscribers", {"subscribers": [], "next": None, "named": []}),
            ("/api/v1/payments?q=nosuchpayment", {"payments": []}),
            ("/api/v1/exports/payments", {"rows": [], "next": None}),
        ):
            async with http.get(base + path, headers=headers) as read:
                assert read.status == 200, (path, await read.text())
                assert await read.json() == expected, path
        async with http.get(f"{base}/api/v1/alerts", headers=headers) as alerts:
            assert alerts.status == 200  # an operator's: whatever the start-up raised
            assert all(a["severity"] in ("info", "warning", "critical")
                       for a in (await alerts.json())["alerts"])  # fmt: skip
        async with http.post(
            f"{base}/api/v1/payments/nosuchpayment/grant", json={"reason": "x"}, headers=headers
        ) as refused:
            assert refused.status == 403  # a read token
            assert refused.content_type == "application/problem+json"
        async with http.get(f"{base}/api/v1/openapi.json") as document:
            assert "/api/v1/channels/{channel_id}/pause" in (await document.json())["paths"]
        await process.services.api_tokens.revoke(viewer, created.token.id, "e2e done")
        async with http.get(f"{base}/api/v1/overview", headers=headers) as revoked:
            assert revoked.status == 401
            assert revoked.content_type == "application/problem+json"
    (token,) = await process.services.api_tokens.tokens(viewer)
    assert token.last_used is not None and token.revoked_at is not None
