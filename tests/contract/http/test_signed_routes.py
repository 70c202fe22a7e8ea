"""Signed machine requests on an app with a protected route of the tests' own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest
from aiohttp import web

from adapters.inbound.http import (
    Route,
    RouteClass,
    RoutePolicy,
    SigningKeys,
    build_app,
    sign_request,
)
from adapters.inbound.http.body import read_body
from adapters.inbound.http.signed_requests import SIGNED_KEY_ID
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.redis import RedisNonceStore, connect_redis
from core.ports.security import NonceStore, Secret
from tests.contract.http.shop import Shop, make_deps, serve

KEY = Secret("cloud-scheduler-key-0123456789abcdef")
PATH = "/jobs/expire"


class Jobs:
    def __init__(self) -> None:
        self.runs: list[tuple[str, bytes]] = []

    async def expire(self, request: web.Request) -> web.Response:
        body = await read_body(request, 1024)
        self.runs.append((request[SIGNED_KEY_ID], body))
        return web.json_response({"started": True})


@pytest.fixture
def jobs() -> Jobs:
    return Jobs()


def protected_app(
    shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs, nonces: NonceStore | None = None
) -> web.Application:
    route = Route(
        "POST", PATH, jobs.expire, "jobs.expire", RoutePolicy(RouteClass.MACHINE, signed=True)
    )
    deps = make_deps(shop, gateway)
    deps = attrs.evolve(
        deps,
        nonces=nonces or deps.nonces,
        signing_keys=SigningKeys({"sched1": KEY}),
        extra_routes=(route,),
    )
    return build_app(deps)


def headers(
    shop: Shop, body: bytes, nonce: str, offset: int = 0, path: str = PATH
) -> dict[str, str]:
    at = int(shop.clock.now().timestamp()) + offset
    return sign_request("sched1", KEY, "POST", path, body, timestamp=at, nonce=nonce)


async def test_a_signed_request_reaches_the_handler_with_its_body_and_key(
    shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs
) -> None:
    body = b'{"batch": 100}'
    async with serve(protected_app(shop, gateway, jobs)) as client:
        response = await client.post(PATH, data=body, headers=headers(shop, body, "n" * 20))

    assert response.status == 200
    assert jobs.runs == [("sched1", body)]


async def test_a_replay_is_refused(shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs) -> None:
    body = b"{}"
    signed = headers(shop, body, "replayed-nonce-0001")
    async with serve(protected_app(shop, gateway, jobs)) as client:
        first = await client.post(PATH, data=body, headers=signed)
        again = await client.post(PATH, data=body, headers=signed)
        refused = await again.json()

    assert (first.status, again.status) == (200, 401)
    assert refused == {"error": "signature refused"}
    assert len(jobs.runs) == 1


@pytest.mark.parametrize(
    "case", ["unsigned", "stale", "future", "tampered body", "other path", "query added"]
)
async def test_unsigned_stale_or_tampered_requests_never_reach_the_handler(
    shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs, case: str
) -> None:
    body = b'{"batch": 100}'
    sent_body, path = body, PATH
    signed = headers(shop, body, "nonce-for-this-case-1")
    if case == "unsigned":
        signed = {}
    elif case == "stale":
        signed = headers(shop, body, "nonce-for-this-case-1", offset=-301)
    elif case == "future":
        signed = headers(shop, body, "nonce-for-this-case-1", offset=301)
    elif case == "tampered body":
        sent_body = b'{"batch": 100000}'
    elif case == "other path":
        signed = headers(shop, body, "nonce-for-this-case-1", path="/jobs/other")
    else:
        path = PATH + "?all=1"
    async with serve(protected_app(shop, gateway, jobs)) as client:
        response = await client.post(path, data=sent_body, headers=signed)

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "PayGate-HMAC"
    assert jobs.runs == []


async def test_unprotected_routes_need_no_signature(
    shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs
) -> None:
    async with serve(protected_app(shop, gateway, jobs)) as client:
        response = await client.get("/healthz")

    assert response.status == 200


@pytest.fixture
async def dead_nonces() -> AsyncIterator[RedisNonceStore]:
    client = connect_redis("redis://127.0.0.1:1/0")
    yield RedisNonceStore(client, prefix="paygate:test:dead:")
    await client.aclose()


async def test_without_a_nonce_store_signed_requests_are_503_not_let_through(
    shop: Shop, gateway: NowPaymentsGateway, jobs: Jobs, dead_nonces: RedisNonceStore
) -> None:
    app = protected_app(shop, gateway, jobs, dead_nonces)
    body = b"{}"
    async with serve(app) as client:
        response = await client.post(PATH, data=body, headers=headers(shop, body, "n" * 20))

    assert response.status == 503
    assert jobs.runs == []
