"""Every answer carries the security headers; every failure becomes one answer, and
nothing a client sends can see an internal error."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import attrs
import pytest
from aiohttp import web

from adapters.inbound.http import Environment, HttpSettings, Route, build_app
from adapters.inbound.http.security_headers import csp_nonce
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from composition.logging import JsonFormatter, RedactingFilter, Redactor
from core.domain.errors import (
    AlreadyRegistered,
    InvalidAmount,
    MissingRights,
    NotAuthorized,
    UnknownChannel,
    Why,
)
from core.domain.money import Money
from core.ports.errors import Conflict, NotFound, PortError, Unavailable
from tests.contract.http.shop import Shop, make_deps, serve

CANARY = "CANARY-db-password-4e1f"


def raising(error: BaseException) -> Route:
    async def handler(request: web.Request) -> web.Response:
        raise error

    return Route("GET", f"/raise/{type(error).__name__}", handler, f"fail.{type(error).__name__}")


async def page(request: web.Request) -> web.Response:
    nonce = csp_nonce(request)
    return web.Response(text=f"<script nonce='{nonce}'>1</script>", content_type="text/html")


ERRORS: list[tuple[BaseException, int, str]] = [
    (
        InvalidAmount(Why.DONATION_BELOW, least=Money("5", "USD")),
        400,
        "The smallest donation is 5 USD.",
    ),
    (NotAuthorized(Why.NOT_OWNER), 403, "Only the channel's owner can change it."),
    (UnknownChannel(Why.NO_SUCH_CHANNEL), 404, "There is no such channel."),
    (
        AlreadyRegistered(Why.REGISTERED_MEANWHILE),
        409,
        "One of these chats was registered meanwhile.",
    ),
    (
        MissingRights(Why.BOT_RIGHTS, ("can_invite_users",), which="closed"),
        400,
        "Make the bot an admin of the closed channel with: invite users.",
    ),
    (NotFound(f"row 7 in {CANARY}"), 404, "not found"),
    (
        Conflict(f"unique violation {CANARY}"),
        409,
        "conflict: someone else changed this first; try again",
    ),
    (Unavailable(f"postgres://u:{CANARY}@db down"), 503, "temporarily unavailable; retry later"),
    (PortError(f"driver said {CANARY}"), 500, "internal error"),
    (KeyError(CANARY), 500, "internal error"),
    (ZeroDivisionError(f"password={CANARY}"), 500, "internal error"),
]


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The error middleware's log, through the production redaction."""
    stream = io.StringIO()
    redactor = Redactor([CANARY])
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter(redactor))
    logger = logging.getLogger("adapters.inbound.http.errors")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def app_with(
    shop: Shop, gateway: NowPaymentsGateway, env: Environment, *routes: Route
) -> web.Application:
    deps = make_deps(shop, gateway, settings=HttpSettings(environment=env))
    return build_app(attrs.evolve(deps, extra_routes=routes))


@pytest.mark.parametrize(
    ("error", "status", "message"),
    ERRORS,
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
async def test_each_failure_becomes_its_answer_and_never_shows_internals(
    shop: Shop,
    gateway: NowPaymentsGateway,
    log: io.StringIO,
    error: BaseException,
    status: int,
    message: str,
) -> None:
    route = raising(error)
    async with serve(app_with(shop, gateway, Environment.PRODUCTION, route)) as client:
        response = await client.get(route.path)
        text = await response.text()

    assert response.status == status
    answer = json.loads(text)
    assert answer["error"] == message
    assert CANARY not in text and "Traceback" not in text and type(error).__name__ not in text
    assert CANARY not in log.getvalue()
    if status == 500:
        (entry,) = [json.loads(line) for line in log.getvalue().splitlines()]
        assert answer["reference"] in entry["message"]
        assert "Traceback (most recent call last)" in entry["exception"]


async def test_a_known_retry_time_is_passed_on_as_retry_after(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    route = raising(Unavailable("busy", retry_after=2.2))
    async with serve(app_with(shop, gateway, Environment.DEVELOPMENT, route)) as client:
        response = await client.get(route.path)

    assert (response.status, response.headers["Retry-After"]) == (503, "3")


async def test_production_answers_carry_a_strict_csp_with_a_fresh_nonce_and_hsts(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    routes = (raising(ZeroDivisionError()), Route("GET", "/page", page, "page"))
    async with serve(app_with(shop, gateway, Environment.PRODUCTION, *routes)) as client:
        responses = [
            await client.get("/healthz"),
            await client.get("/no/such/page"),
            await client.post("/webhooks/nowpayments", data=b"{}"),
            await client.get("/raise/ZeroDivisionError"),
            await client.get("/page"),
            await client.get("/page"),
        ]
        page_html = [await r.text() for r in responses[-2:]]

    assert [r.status for r in responses] == [200, 404, 401, 500, 200, 200]
    nonces = []
    for response in responses:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", csp)
        assert nonce is not None
        nonces.append(nonce.group(1))
        assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "Server" not in headers
    assert len(set(nonces)) == len(nonces)
    # The page's script carries the nonce its own response's policy names.
    assert [f"nonce='{n}'" in html for n, html in zip(nonces[-2:], page_html, strict=True)] == [
        True,
        True,
    ]


async def test_development_relaxes_the_csp_and_sends_no_hsts(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(app_with(shop, gateway, Environment.DEVELOPMENT)) as client:
        responses = [await client.get("/healthz"), await client.get("/missing")]

    for response in responses:
        assert "'unsafe-inline'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Server" not in response.headers


async def test_unknown_paths_and_methods_answer_json(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(app_with(shop, gateway, Environment.PRODUCTION)) as client:
        missing = await client.get("/wp-admin.php")
        wrong_method = await client.delete("/healthz")
        bodies = [await missing.json(), await wrong_method.json()]

    assert (missing.status, wrong_method.status) == (404, 405)
    assert bodies == [{"error": "Not Found"}, {"error": "Method Not Allowed"}]
    assert wrong_method.headers["Allow"] == "GET"
