"""POST /webhooks/nowpayments on a real server: verified before believed, stored
before answered, never granted twice."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.inbound.http import HttpMetrics, HttpSettings, build_app
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from core.domain.ids import IntentId, UserId
from core.domain.payment import EventOutcome
from core.ports.alerts import Severity
from tests.contract.http.shop import (
    WRONG_SECRET,
    Shop,
    make_deps,
    serve,
    signed,
)

USER = UserId(4242)
URL = "/webhooks/nowpayments"


async def test_a_paid_invoice_is_granted_once_and_answered_200(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    async with serve(build_app(make_deps(shop, gateway))) as client:
        answers = []
        for status in ("waiting", "confirming", "finished"):
            body, headers = signed(shop.payload(invoice, status, payment_id=77))
            response = await client.post(URL, data=body, headers=headers)
            answers.append((response.status, (await response.json())["outcome"]))

    assert answers == [(200, "applied"), (200, "applied"), (200, "granted")]
    (subscription,) = await shop.subscriptions(USER)
    assert subscription.tier == 1
    assert len(await shop.invites()) == 1


async def test_a_replayed_notification_changes_nothing(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    body, headers = signed(shop.payload(invoice, "finished", payment_id=78))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        first = await client.post(URL, data=body, headers=headers)
        before = await shop.subscriptions(USER)
        replays = [await client.post(URL, data=body, headers=headers) for _ in range(3)]
        outcomes = [(await r.json())["outcome"] for r in replays]

    assert first.status == 200
    assert [r.status for r in replays] == [200, 200, 200]
    assert outcomes == ["duplicate"] * 3
    assert await shop.subscriptions(USER) == before
    assert len(await shop.invites()) == 1
    assert await shop.event_count(invoice) == 1


async def test_a_bad_signature_is_401_logged_and_counted_with_nothing_stored(
    shop: Shop, gateway: NowPaymentsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    invoice = await shop.order(USER)
    body, headers = signed(shop.payload(invoice, "finished"), WRONG_SECRET)
    metrics = HttpMetrics()
    deps = attrs.evolve(make_deps(shop, gateway), metrics=metrics)
    async with serve(build_app(deps)) as client:
        response = await client.post(URL, data=body, headers=headers)
        answer = await response.json()
        exposed = await (await client.get("/metrics")).text()

    assert (response.status, answer) == (401, {"error": "invalid signature"})
    assert await shop.event_count(invoice) == 0
    assert await shop.subscriptions(USER) == []
    refused = [r for r in caplog.records if "refused nowpayments notification" in r.getMessage()]
    assert [r.levelno for r in refused] == [logging.WARNING]
    assert headers["x-nowpayments-sig"] not in caplog.text
    assert (
        'paygate_ipn_notifications_total{provider="nowpayments",result="invalid_signature"} 1.0'
        in exposed
    )


async def test_a_missing_signature_is_401(shop: Shop, gateway: NowPaymentsGateway) -> None:
    invoice = await shop.order(USER)
    body, _ = signed(shop.payload(invoice, "finished"))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers={"Content-Type": "application/json"})

    assert response.status == 401
    assert await shop.event_count(invoice) == 0


async def test_a_signed_but_unusable_notification_is_400_saying_why(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    body, headers = signed(shop.payload(invoice, "paid-in-full"))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers=headers)
        answer = await response.json()

    assert response.status == 400
    assert answer == {
        "error": "malformed notification: payment_status: unknown status 'paid-in-full'"
    }
    assert await shop.event_count(invoice) == 0


async def test_a_body_over_64_kib_is_413_even_when_signed(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    payload = shop.payload(invoice, "finished") | {"order_description": "x" * 70_000}
    body, headers = signed(payload)

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    async with serve(build_app(make_deps(shop, gateway))) as client:
        declared = await client.post(URL, data=body, headers=headers)
        streamed = await client.post(URL, data=chunked(), headers=headers)

    assert (declared.status, streamed.status) == (413, 413)
    assert await shop.event_count(invoice) == 0


async def test_a_signed_notification_for_an_unknown_order_is_recorded_alerted_never_granted(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    await shop.open_channel()
    payload = shop.payload(IntentId("nosuchintent"), "finished")
    body, headers = signed(payload)
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers=headers)
        answer = await response.json()

    # 200, so the provider stops resending what no retry could change.
    assert (response.status, answer) == (200, {"outcome": str(EventOutcome.UNKNOWN_ORDER)})
    assert [a.severity for a in shop.alerts.alerts] == [Severity.CRITICAL]
    assert await shop.invites() == []


async def test_a_dead_database_is_503_so_the_provider_retries(
    dead_database_shop: Shop, gateway: NowPaymentsGateway
) -> None:
    shop = dead_database_shop
    body, headers = signed(shop.payload(IntentId("anyintent"), "finished"))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers=headers)
        answer = await response.json()

    assert (response.status, answer) == (503, {"error": "temporarily unavailable; retry later"})


async def test_the_route_only_takes_post(shop: Shop, gateway: NowPaymentsGateway) -> None:
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.get(URL)

    assert response.status == 405
    assert response.headers["Allow"] == "POST"


async def test_unknown_providers_have_no_route(shop: Shop, gateway: NowPaymentsGateway) -> None:
    body, headers = signed(shop.payload(IntentId("x1"), "finished"))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post("/webhooks/otherpay", data=body, headers=headers)

    assert response.status == 404


def test_a_gateway_must_be_filed_under_its_own_name(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    deps = attrs.evolve(make_deps(shop, gateway), gateways={"coinpay": gateway})

    with pytest.raises(ValueError, match="'coinpay' is 'nowpayments'"):
        build_app(deps)


async def test_the_body_limit_is_a_setting(shop: Shop, gateway: NowPaymentsGateway) -> None:
    invoice = await shop.order(USER)
    payload = shop.payload(invoice, "finished") | {"order_description": "x" * 1000}
    body, headers = signed(payload)
    small = make_deps(shop, gateway, settings=HttpSettings(ipn_body_limit=1024))
    async with serve(build_app(small)) as client:
        refused = await client.post(URL, data=body, headers=headers)
    async with serve(build_app(make_deps(shop, gateway))) as client:
        accepted = await client.post(URL, data=body, headers=headers)

    assert (refused.status, accepted.status) == (413, 200)
    assert len(await shop.invites()) == 1


async def test_a_body_larger_than_any_notification_is_413_unread_by_default(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    # Signed, so only its size can refuse it: 17 KiB, where a real IPN is about 1 KiB.
    payload = shop.payload(invoice, "finished") | {
        "padding": ["x" * 1000] * 17,
    }
    body, headers = signed(payload)
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers=headers)
        answer = await response.json()

    assert len(body) > 16 * 1024
    assert response.status == 413, answer
    assert await shop.event_count(invoice) == 0


async def test_a_body_that_does_not_decompress_is_400(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    invoice = await shop.order(USER)
    body, headers = signed(shop.payload(invoice, "finished"))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, data=body, headers=headers | {"Content-Encoding": "gzip"})
        answer = await response.json()

    assert (response.status, answer) == (400, {"error": "the request body could not be read"})
    assert await shop.event_count(invoice) == 0
