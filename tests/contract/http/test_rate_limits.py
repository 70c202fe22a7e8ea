"""Rate limits per client IP and route class: 429 with the headers that say when to
come back, and webhooks that survive an outage of the shared limiter."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import attrs
import pytest

from adapters.inbound.http import (
    BucketSize,
    HttpSettings,
    RouteClass,
    TrustedProxies,
    build_app,
    rate_rules,
)
from adapters.outbound.memory import InMemoryRateLimiter
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.redis import RedisRateLimiter, connect_redis
from core.domain.ids import IntentId, UserId
from core.ports.alerts import Severity
from core.ports.security import RateLimiter
from tests.contract.http.shop import WRONG_SECRET, Shop, make_deps, serve, signed

SMALL = BucketSize(2, 0.5)


@pytest.fixture
async def dead_redis() -> AsyncIterator[RedisRateLimiter]:
    # Nothing listens on port 1: a Redis that is down.
    client = connect_redis("redis://127.0.0.1:1/0")
    yield RedisRateLimiter(client, 2, 0.5, prefix="paygate:test:dead:")
    await client.aclose()


async def test_an_empty_bucket_is_429_with_retry_after_and_ratelimit_headers(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:
        answers = [await client.get("/healthz") for _ in range(3)]
        refused = await answers[-1].json()
        shop.clock.advance(timedelta(seconds=2))
        later = await client.get("/healthz")

    assert [a.status for a in answers] == [200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"2"}
    assert answers[-1].headers["Retry-After"] == "2"
    assert answers[-1].headers["RateLimit-Reset"] == "2"
    assert refused == {"error": "too many requests; slow down"}
    assert later.status == 200


async def test_route_classes_have_buckets_of_their_own(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:
        probes = [(await client.get("/healthz")).status for _ in range(3)]
        unknown = [(await client.get("/nothing-here")).status for _ in range(3)]
        webhook = (await client.post("/webhooks/nowpayments", data=b"{}")).status

    assert probes == [200, 200, 429]
    assert unknown == [404, 404, 429]
    assert webhook == 401


async def test_clients_behind_our_proxy_are_limited_one_by_one(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    settings = HttpSettings(trusted_proxies=TrustedProxies.parse("127.0.0.1/32"))
    deps = make_deps(shop, gateway, bucket=SMALL, settings=settings)
    async with serve(build_app(deps)) as client:

        async def status(forwarded: str) -> int:
            return (await client.get("/healthz", headers={"X-Forwarded-For": forwarded})).status

        first = [await status("198.51.100.1") for _ in range(3)]
        second = await status("198.51.100.2")
        # What a client writes before the proxy's entry does not buy it a new bucket.
        spoofed = await status("203.0.113.9, 198.51.100.1")

    assert first == [200, 200, 429]
    assert (second, spoofed) == (200, 429)


async def test_ipv6_clients_are_limited_by_their_64_not_each_address(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    settings = HttpSettings(trusted_proxies=TrustedProxies.parse("127.0.0.1/32"))
    deps = make_deps(shop, gateway, bucket=SMALL, settings=settings)
    async with serve(build_app(deps)) as client:

        async def status(forwarded: str) -> int:
            return (await client.get("/healthz", headers={"X-Forwarded-For": forwarded})).status

        # One host of one /64 taking a fresh address for every request.
        same_64 = [await status(f"2001:db8:1:2::{i:x}") for i in range(1, 4)]
        other_64 = await status("2001:db8:1:3::1")

    assert same_64 == [200, 200, 429]
    assert other_64 == 200


async def test_spoofed_forwarded_for_from_an_untrusted_peer_shares_the_peers_bucket(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:
        statuses = [
            (await client.get("/healthz", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status
            for i in range(3)
        ]

    assert statuses == [200, 200, 429]


async def test_with_the_shared_limiter_down_webhooks_fall_back_to_local_buckets_and_alert(
    shop: Shop, gateway: NowPaymentsGateway, dead_redis: RedisRateLimiter
) -> None:
    def local(capacity: int, per_second: float) -> RateLimiter:
        return InMemoryRateLimiter(shop.clock, capacity, per_second)

    def shared(capacity: int, per_second: float) -> RateLimiter:
        return dead_redis

    rules = rate_rules(local, shared, buckets=dict.fromkeys(RouteClass, SMALL))
    deps = attrs.evolve(make_deps(shop, gateway), rate_limits=rules)
    invoice = await shop.order(UserId(7))
    async with serve(build_app(deps)) as client:
        started = time.perf_counter()
        webhook = []
        for status in ("waiting", "confirming", "finished"):
            body, headers = signed(shop.payload(invoice, status, payment_id=5))
            webhook.append(
                (await client.post("/webhooks/nowpayments", data=body, headers=headers)).status
            )
        body, headers = signed(shop.payload(invoice, "finished"), WRONG_SECRET)
        forged = [
            (await client.post("/webhooks/nowpayments", data=body, headers=headers)).status
            for _ in range(3)
        ]
        other = await client.get("/no-such-page")
        probe = await client.get("/healthz")
        elapsed = time.perf_counter() - started

    # Signed ones pass; forged ones empty the two-token per-process bucket, then 429:
    # still limited, still working.
    assert webhook == [200, 200, 200]
    assert forged == [401, 401, 429]
    assert (other.status, other.headers["Retry-After"]) == (503, "1")
    assert probe.status == 200
    assert [(a.severity, a.key) for a in shop.alerts.alerts] == [
        (Severity.CRITICAL, "http:rate-limiter-unavailable")
    ]
    assert elapsed < 2.0  # nobody waited on the dead Redis


async def test_a_provider_sending_faster_than_the_bucket_refills_is_never_refused(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoices = [await shop.order(UserId(100 + n)) for n in range(6)]
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:
        answers = []
        for invoice in invoices:
            body, headers = signed(shop.payload(invoice, "finished"))
            answers.append(await client.post("/webhooks/nowpayments", data=body, headers=headers))

    # Six signed notifications against a bucket of two, with no time passing.
    assert [a.status for a in answers] == [200] * 6
    assert {a.headers["RateLimit-Remaining"] for a in answers} == {"2"}
    assert len(await shop.invites()) == 6


async def test_failed_webhooks_empty_the_senders_bucket_and_time_refills_it(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(UserId(7))
    genuine, headers = signed(shop.payload(invoice, "finished"))
    forged, forged_headers = signed(shop.payload(invoice, "finished"), WRONG_SECRET)
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:

        async def post(body: bytes, headers: dict[str, str]) -> tuple[int, str]:
            answer = await client.post("/webhooks/nowpayments", data=body, headers=headers)
            return answer.status, answer.headers["RateLimit-Remaining"]

        failures = [
            await post(forged, forged_headers),
            await post(b"{not json", {"Content-Type": "application/json"}),
        ]
        refused = await client.post("/webhooks/nowpayments", data=genuine, headers=headers)
        shop.clock.advance(timedelta(seconds=2))
        later = await post(genuine, headers)

    assert failures == [(401, "1"), (401, "0")]
    # An address whose failures emptied its bucket waits, whatever it sends next.
    assert (refused.status, refused.headers["Retry-After"]) == (429, "2")
    assert later == (200, "1")
    assert len(await shop.invites()) == 1


async def test_a_webhook_the_database_could_not_take_is_not_charged_to_the_sender(
    dead_database_shop: Shop, gateway: NowPaymentsGateway
) -> None:
    shop = dead_database_shop
    body, headers = signed(shop.payload(IntentId("anyintent"), "finished"))
    async with serve(build_app(make_deps(shop, gateway, bucket=SMALL))) as client:
        answers = [
            await client.post("/webhooks/nowpayments", data=body, headers=headers) for _ in range(4)
        ]

    assert [a.status for a in answers] == [503] * 4
