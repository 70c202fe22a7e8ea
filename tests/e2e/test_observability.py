"""Issue 18, "Observability": ``PAYGATE_LOG_FORMAT=json`` makes a real process log
JSON lines with structured fields, its start line and a refused start included."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.e2e.lone_web import lone_web
from tests.e2e.test_never_silently_wrong import CREDENTIALS, paygate


async def test_json_log_format_makes_every_line_a_json_object(tmp_path: Path) -> None:
    async with lone_web(tmp_path, {"PAYGATE_LOG_FORMAT": "json"}) as web:
        log = web.process.current_log()
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    started = [e for e in entries if "paygate web started" in e["message"]]
    assert len(started) == 1, log
    assert started[0]["role"] == "web"
    assert started[0]["level"] == "INFO"


def test_a_refused_start_goes_through_the_json_logger(tmp_path: Path) -> None:
    done = paygate(
        tmp_path,
        "run",
        **CREDENTIALS,
        PAYGATE_ENV="production",
        PAYGATE_LOG_FORMAT="json",
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "CRITICAL"
    assert entry["fatal"] is True
    assert "PAYGATE_PUBLIC_URL is not set" in entry["message"]


def test_an_unknown_log_format_is_one_line(tmp_path: Path) -> None:
    done = paygate(tmp_path, "web", **CREDENTIALS, PAYGATE_LOG_FORMAT="xml")
    assert done.returncode == 2
    assert (
        done.stderr
        == "paygate: configuration error: PAYGATE_LOG_FORMAT must be json or text, got 'xml'\n"
    )


async def test_json_lines_of_a_payment_carry_its_fields_and_never_its_signature(
    tmp_path: Path,
) -> None:
    async with lone_web(tmp_path, {"PAYGATE_LOG_FORMAT": "json"}) as web:
        body, headers = web.signed_ipn()
        order = json.loads(body)["order_id"]
        signature = headers["x-nowpayments-sig"]
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{web.url}/webhooks/nowpayments", data=body, headers=headers
            ) as answer:
                assert answer.status == 200, await answer.text()
            forged = {**headers, "x-nowpayments-sig": "0" * len(signature)}
            async with http.post(
                f"{web.url}/webhooks/nowpayments", data=body, headers=forged
            ) as answer:
                assert answer.status == 401
        log = web.process.current_log()
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert all(entry["role"] == "web" for entry in entries), log
    (paid,) = [e for e in entries if e.get("order") == order]
    assert paid["provider"] == "nowpayments"
    assert paid["payment_id"] == str(json.loads(body)["payment_id"])
    assert paid["payment_status"] == "finished"
    # Signed with our key but for an intent this database never held: no intent.
    assert (paid["outcome"], paid["intent"]) == ("unknown_order", None)
    (refused,) = [e for e in entries if e.get("ipn_result") == "invalid"]
    assert (refused["provider"], refused["level"]) == ("nowpayments", "WARNING")
    assert signature not in log
