"""Issue 16, "/readyz fails when Redis is down although IPNs still work": a real
``paygate web`` whose Redis does not answer (a closed loopback port, never the
machine's shared Redis) still takes signed IPNs, so it stays in rotation: ``/readyz``
answers 200 ``degraded`` naming Redis, and ``/metrics`` says Redis is down."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp

from tests.e2e.lone_web import PROXY, lone_web


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_with_redis_down_the_process_takes_ipns_and_says_degraded_not_unready(
    tmp_path: Path,
) -> None:
    env = {
        "PAYGATE_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "PAYGATE_TRUSTED_PROXIES": f"{PROXY}/32",
    }
    async with lone_web(tmp_path, env) as web:
        ipn_status, _ = await web.post_ipn()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{web.url}/readyz") as ready:
                status, body = ready.status, await ready.json()
            async with http.get(f"{web.url}/metrics") as metrics:
                text = await metrics.text()

    assert ipn_status == 200
    assert (status, body["status"]) == (200, "degraded"), body
    assert body["degraded"] == ["redis"]
    assert body["checks"] == {
        "database": "ok",
        "schema": "ok",
        "redis": "unavailable",
        "telegram": "ok",
    }
    assert 'paygate_dependency_up{name="redis"} 0.0' in text
    assert 'paygate_dependency_up{name="database"} 1.0' in text
