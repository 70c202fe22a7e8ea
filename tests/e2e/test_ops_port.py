"""Issue 18, "Observability": ``worker`` and ``bot`` serve /healthz, /readyz and
/metrics on PAYGATE_OPS_PORT; the business metrics count what a real journey did,
and no label value carries a person's id, an order or a secret."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from composition.assembly import opened_store
from composition.config import load_config
from composition.demo.clock import SharedClockFile
from composition.demo.environment import free_port
from composition.demo.journey import Demo
from composition.demo.people import set_up_world
from composition.demo.transcript import Transcript
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_journey_processes import migrated_database

ALLOWED_LABEL_VALUES = {
    # Bot API methods PayGate calls, and a call's results.
    *[
        "getMe",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "sendMessage",
        "editMessageText",
        "deleteMessage",
        "createChatInviteLink",
        "editChatInviteLink",
        "revokeChatInviteLink",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "banChatMember",
        "unbanChatMember",
        "getChatMember",
        "getChat",
        "getChatAdministrators",
        "answerCallbackQuery",
        "pinChatMessage",
        "unpinChatMessage",
        "setMyCommands",
        "createInvoiceLink",
        "answerPreCheckoutQuery",
        "refundStarPayment",
        "other",
    ],
    *["ok", "rate_limited", "refused", "server_error", "circuit_open", "unreachable"],
    # Outbox effects and outcomes, jobs and their results, reconciliation finds.
    *["grant", "removal", "reminder", "message", "join_approval", "join_decline", "invite_refresh"],
    *["bundle_grant", "bundle_removal"],
    *["done", "retried", "dead", "failed", "applied", "abandoned"],
    *["dispatch", "sweep", "broadcast", "reconcile", "rights"],
    # Breakers, dependencies, routes, HTTP methods and statuses, IPN results.
    *["telegram", "nowpayments", "database", "schema", "redis"],
    *[
        "healthz",
        "readyz",
        "metrics",
        "unmatched",
        "webhook.telegram",
        "webhook.nowpayments",
        "jobs.run",
    ],
    *["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    *[
        "applied",
        "duplicate",
        "ignored",
        "recorded",
        "granted",
        "unknown_order",
        "invalid_signature",
    ],
    *["malformed", "unavailable", "webhook", "machine", "probe", "default"],
    # The default process metrics (Python's implementation, version, GC generations).
    "CPython",
    "0",
    "1",
    "2",
}


def _label_values(text: str) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, value in sample.labels.items():
                values.setdefault(f"{sample.name}{{{name}}}", set()).add(value)
    return values


def _value(text: str, metric: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def test_worker_and_bot_serve_probes_and_business_metrics_after_a_journey(
    tmp_path: Path,
) -> None:
    async with (
        open_emulators(tmp_path / "unused.db") as emulated,
        migrated_database("sqlite", tmp_path) as database_url,
    ):
        clock = SharedClockFile(tmp_path / "clock-offset")
        env = emulated.env | {
            "PAYGATE_DATABASE_URL": database_url,
            "PAYGATE_PUBLIC_URL": emulated.url,
            "PAYGATE_CLOCK_OFFSET_FILE": str(clock.path),
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        say = Transcript(io.StringIO(), clock)
        set_up_world(emulated.telegram, say)
        ports = {"bot": free_port(), "worker": free_port()}
        with fleet_in(tmp_path) as fleet:
            fleet.add("web", "web", env)
            for role, port in ports.items():
                fleet.add(role, role, env | {"PAYGATE_OPS_PORT": str(port)})
            await fleet.start_all()
            async with opened_store(config) as store:
                await Demo(emulated.telegram, emulated.payments, clock, say, store.uow).play()
            scraped: dict[str, str] = {}
            async with aiohttp.ClientSession() as http:
                for role, port in ports.items():
                    base = f"http://127.0.0.1:{port}"
                    async with http.get(f"{base}/healthz") as live:
                        assert live.status == 200
                    async with http.get(f"{base}/readyz") as ready:
                        assert ready.status == 200, await ready.text()
                        assert (await ready.json())["status"] == "ready"
                    async with http.get(f"{base}/metrics") as metrics:
                        assert metrics.status == 200
                        scraped[role] = await metrics.text()
                async with http.get(f"http://{config.http_host}:{config.http_port}/metrics") as m:
                    scraped["web"] = await m.text()
            codes = await fleet.stop_all()
        logs = {p.name: p.current_log() for p in fleet.processes}
    assert codes == {"web": 0, "bot": 0, "worker": 0}, logs
    for role, port in ports.items():
        assert f"ops port listening on 127.0.0.1:{port}" in logs[role]
    assert "ops port" not in logs["web"]  # web serves them on its HTTP port

    worker, bot, web = scraped["worker"], scraped["bot"], scraped["web"]
    # The journey's facts, counted where they happened.
    assert _value(worker, "paygate_outbox_effects_total", effect="grant", outcome="done") >= 2
    assert _value(worker, "paygate_outbox_effects_total", effect="removal", outcome="done") >= 2
    assert _value(worker, "paygate_outbox_effects_total", effect="reminder", outcome="done") >= 1
    assert _value(worker, "paygate_reconcile_finds_total", kind="applied") >= 1
    assert _value(worker, "paygate_worker_job_runs_total", job="sweep", result="ok") >= 1
    assert _value(worker, "paygate_telegram_calls_total", method="sendMessage", result="ok") >= 1
    # The bot answers people itself (getUpdates has a request of its own, not counted).
    assert _value(bot, "paygate_telegram_calls_total", method="sendMessage", result="ok") >= 1
    assert _value(web, "paygate_ipn_notifications_total", provider="nowpayments") >= 3
    # Read at scrape time: the outbox is drained, nothing dead, the circuits closed.
    assert _value(worker, "paygate_outbox_dead_letters") == 0
    assert "paygate_outbox_backlog" in worker
    assert _value(worker, "paygate_circuit_state", name="telegram") == 0
    # The default process metrics.
    for text in (worker, bot, web):
        assert "process_cpu_seconds_total" in text
        assert "python_info" in text
    # No label value names a person, a chat, an order or a secret.
    for role, text in scraped.items():
        for label, values in _label_values(text).items():
            if label.startswith("python_info{") or label.endswith("{le}"):
                continue  # versions, histogram buckets
            unexpected = values - ALLOWED_LABEL_VALUES - {str(s) for s in range(100, 600)}
            assert not unexpected, f"{role}: {label} carries {sorted(unexpected)}"


async def test_the_ops_port_guards_metrics_like_the_web_port(tmp_path: Path) -> None:
    async with (
        open_emulators(tmp_path / "unused.db") as emulated,
        migrated_database("sqlite", tmp_path) as database_url,
    ):
        port = free_port()
        env = emulated.env | {
            "PAYGATE_DATABASE_URL": database_url,
            "PAYGATE_OPS_PORT": str(port),
            "PAYGATE_PRIVATE_ALLOWLIST": "10.0.0.0/8",
        }
        with fleet_in(tmp_path) as fleet:
            fleet.add("worker", "worker", env)
            await fleet.start_all()
            async with aiohttp.ClientSession() as http:
                base = f"http://127.0.0.1:{port}"
                async with http.get(f"{base}/metrics") as metrics:
                    refused = metrics.status
                async with http.get(f"{base}/healthz") as live:
                    alive = live.status
            assert await fleet.stop_all() == {"worker": 0}
    assert refused == 403
    assert alive == 200
