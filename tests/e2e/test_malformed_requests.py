"""Issue 16, "malformed requests log full tracebacks, unlimited": requests a real
``paygate web`` cannot parse are answered 400 with our security headers, and the log
gets one line for the burst (then one summary line), never a traceback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.e2e.lone_web import lone_web

MALFORMED = (
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\nHost: x\n\n",
    b"GET /healthz HTTP/1.1\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /webhooks/nowpayments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
)
ROUNDS = 10
SUMMARY_AFTER = 10.0
"""The log sums up what it left out once per this many seconds."""


async def answer_to(port: int, raw: bytes) -> tuple[str, dict[str, str]]:
    """The status line and headers the server sent before closing the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    try:
        data = await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        data = b""
    writer.close()
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers


async def test_malformed_requests_get_our_headers_and_one_paced_log_line(
    tmp_path: Path,
) -> None:
    async with lone_web(tmp_path) as web:
        started = time.monotonic()
        answers = [await answer_to(web.port, raw) for _ in range(ROUNDS) for raw in MALFORMED]
        burst_log = web.process.current_log()
        await asyncio.sleep(max(0.0, started + SUMMARY_AFTER + 0.5 - time.monotonic()))
        log = web.process.current_log()

    # aiohttp answers a request it could not read as HTTP/1.0, and closes.
    statuses = {status for status, _ in answers}
    assert statuses == {"HTTP/1.0 400 Bad Request"}, statuses
    for _, headers in answers:
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["content-type"].startswith("application/json")
        assert headers.get("server", "paygate") == "paygate"
    burst_lines = [line for line in burst_log.splitlines() if "malformed request" in line]
    assert len(burst_lines) == 1, burst_lines
    assert "malformed request from 127.0.0.1: " in burst_lines[0]
    summary = [line for line in log.splitlines() if "more malformed requests" in line]
    assert len(summary) == 1, summary
    assert f"{ROUNDS * len(MALFORMED) - 1} more malformed requests" in summary[0]
    assert "Traceback" not in log
    assert " ERROR " not in log
