"""Per-route CIDR allowlists, liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http import HttpSettings, TelegramWebhook, TrustedProxies, build_app
from adapters.inbound.http.allowlist import TELEGRAM_SENDERS
from adapters.inbound.http.client_ip import parse_networks
from adapters.inbound.http.health import unit_of_work_probe
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.redis import RedisProbe, connect_redis
from core.ports.security import Secret
from tests.contract.http.shop import Shop, make_deps, serve

SECRET = "tg-secret-allowlist"


async def accept(update: object) -> None:
    return None


def telegram() -> TelegramWebhook:
    return TelegramWebhook(Secret(SECRET), accept)


async def test_a_configured_allowlist_refuses_other_addresses_with_403(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    settings = HttpSettings(allowlists={"telegram": TELEGRAM_SENDERS})
    deps = make_deps(shop, gateway, settings=settings, telegram=telegram())
    async with serve(build_app(deps)) as client:
        update = await client.post(
            "/webhooks/telegram",
            json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        refusal = await update.json()
        # Lists are per route: the payment webhook has none configured here.
        ipn = await client.post("/webhooks/nowpayments", data=b"{}")

    assert (update.status, refusal) == (403, {"error": "forbidden"})
    assert ipn.status == 401


async def test_an_allowed_client_behind_our_proxy_passes(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    settings = HttpSettings(
        trusted_proxies=TrustedProxies.parse("127.0.0.1"),
        allowlists={"telegram": TELEGRAM_SENDERS},
    )
    deps = make_deps(shop, gateway, settings=settings, telegram=telegram())
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with serve(build_app(deps)) as client:
        inside = await client.post(
            "/webhooks/telegram",
            json={"update_id": 2},
            headers=headers | {"X-Forwarded-For": "149.154.167.220"},
        )
        # Claiming a Telegram address left of one's own gets nowhere.
        spoofed = await client.post(
            "/webhooks/telegram",
            json={"update_id": 3},
            headers=headers | {"X-Forwarded-For": "149.154.167.220, 203.0.113.5"},
        )

    assert (inside.status, spoofed.status) == (200, 403)


async def test_metrics_can_be_kept_to_the_monitoring_network(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    closed = HttpSettings(allowlists={"metrics": parse_networks("10.0.0.0/8")})
    opened = HttpSettings(allowlists={"metrics": parse_networks("127.0.0.0/8")})
    async with serve(build_app(make_deps(shop, gateway, settings=closed))) as client:
        refused = await client.get("/metrics")
    async with serve(build_app(make_deps(shop, gateway, settings=opened))) as client:
        await client.get("/healthz")
        allowed = await client.get("/metrics")
        text = await allowed.text()

    assert (refused.status, allowed.status) == (403, 200)
    assert allowed.headers["Content-Type"].startswith("text/plain; version=")
    assert "paygate_http_request_duration_seconds_bucket" in text


async def test_liveness_answers_without_asking_anything(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.get("/healthz")
        answer = await response.json()

    assert (response.status, answer) == (200, {"status": "ok"})


@pytest.fixture
async def dead_redis_probe() -> AsyncIterator[RedisProbe]:
    client = connect_redis("redis://127.0.0.1:1/0")
    yield RedisProbe(client)
    await client.aclose()


async def test_readiness_names_what_is_down_without_its_error(
    shop: Shop, gateway: NowPaymentsGateway, dead_redis_probe: RedisProbe
) -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    deps = attrs.evolve(
        make_deps(shop, gateway, settings=HttpSettings(readiness_timeout=0.2)),
        readiness={
            "database": unit_of_work_probe(shop.uow),
            "redis": dead_redis_probe,
            "slow": hangs,
        },
    )
    async with serve(build_app(deps)) as client:
        response = await client.get("/readyz")
        answer = await response.json()

    assert response.status == 503
    assert answer == {
        "status": "not ready",
        "checks": {"database": "ok", "redis": "unavailable", "slow": "timeout"},
    }


async def test_readiness_is_200_when_every_probe_answers(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    deps = attrs.evolve(
        make_deps(shop, gateway), readiness={"database": unit_of_work_probe(shop.uow)}
    )
    async with serve(build_app(deps)) as client:
        response = await client.get("/readyz")
        answer = await response.json()

    assert (response.status, answer) == (
        200,
        {"status": "ready", "checks": {"database": "ok"}},
    )


async def test_metrics_count_answers_by_route_not_by_path(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway))) as client:
        await client.get("/healthz")
        await client.get("/random-scanner-path-1")
        await client.get("/random-scanner-path-2")
        await client.request("PROPFIND", "/healthz")
        text = await (await client.get("/metrics")).text()

    assert 'paygate_http_requests_total{method="GET",route="healthz",status="200"} 1.0' in text
    assert 'paygate_http_requests_total{method="GET",route="unmatched",status="404"} 2.0' in text
    assert 'paygate_http_requests_total{method="other",route="unmatched",status="405"} 1.0' in text
    assert "random-scanner" not in text


async def test_a_degradable_dependency_that_is_down_leaves_the_process_ready_but_degraded(
    shop: Shop, gateway: NowPaymentsGateway, dead_redis_probe: RedisProbe
) -> None:
    deps = attrs.evolve(
        make_deps(shop, gateway),
        readiness={"database": unit_of_work_probe(shop.uow)},
        degradable={"redis": dead_redis_probe},
    )
    async with serve(build_app(deps)) as client:
        response = await client.get("/readyz")
        answer = await response.json()
        text = await (await client.get("/metrics")).text()

    assert (response.status, answer) == (
        200,
        {
            "status": "degraded",
            "checks": {"database": "ok", "redis": "unavailable"},
            "degraded": ["redis"],
        },
    )
    assert 'paygate_dependency_up{name="redis"} 0.0' in text
    assert 'paygate_dependency_up{name="database"} 1.0' in text
