"""The webhook channel against a receiver on 127.0.0.1 that verifies Standard Webhooks
signatures: what is sent, that it verifies, and what counts as a failed delivery."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from adapters.outbound.alerts import AlertDeliveryFailed, WebhookAlertSink, WebhookSecret
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.ids import SequentialIdGenerator
from core.ports.alerts import Alert, Severity
from tests.contract.alerts.webhook_receiver import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"

DEAD_LETTER = Alert(
    Severity.CRITICAL,
    "Payments are not being granted",
    key="outbox.dead_letter",
    details={"outbox_id": "ob42", "channel": "Gold \N{EM DASH} members"},
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def receiver(clock: FrozenClock) -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(SECRET, clock.now) as receiver:
        yield receiver


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def sink(
    session: aiohttp.ClientSession,
    url: str,
    clock: FrozenClock,
    *,
    secret: str = SECRET,
    timeout: float = 5.0,
) -> WebhookAlertSink:
    return WebhookAlertSink(
        session,
        url,
        WebhookSecret.parse(secret),
        clock,
        SequentialIdGenerator("al"),
        timeout=timeout,
    )


async def test_an_alert_arrives_signed_with_the_standard_webhooks_headers_and_body(
    receiver: WebhookReceiver, session: aiohttp.ClientSession, clock: FrozenClock
) -> None:
    await sink(session, receiver.url(), clock).deliver(DEAD_LETTER)

    [delivery] = receiver.deliveries
    assert delivery.verdict == "valid"
    assert delivery.headers["webhook-id"] == "msg_al00000001"
    assert delivery.headers["webhook-timestamp"] == "1735689600"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.payload() == {
        "type": "alert.raised",
        "timestamp": "2025-01-01T00:00:00.000000Z",
        "data": {
            "severity": "critical",
            "title": "Payments are not being granted",
            "key": "outbox.dead_letter",
            "details": {"outbox_id": "ob42", "channel": "Gold \N{EM DASH} members"},
        },
    }


async def test_each_alert_has_its_own_id_and_the_current_timestamp(
    receiver: WebhookReceiver, session: aiohttp.ClientSession, clock: FrozenClock
) -> None:
    webhook = sink(session, receiver.url(), clock)
    await webhook.deliver(DEAD_LETTER)
    clock.advance(timedelta(seconds=90))
    await webhook.deliver(DEAD_LETTER)

    seen = [
        (d.headers["webhook-id"], d.headers["webhook-timestamp"], d.verdict)
        for d in receiver.deliveries
    ]
    assert seen == [
        ("msg_al00000001", "1735689600", "valid"),
        ("msg_al00000002", "1735689690", "valid"),
    ]


async def test_a_receiver_holding_another_secret_rejects_it_and_that_is_a_failure(
    receiver: WebhookReceiver, session: aiohttp.ClientSession, clock: FrozenClock
) -> None:
    with pytest.raises(AlertDeliveryFailed, match="answered HTTP 401"):
        await sink(session, receiver.url(), clock, secret=OTHER_SECRET).deliver(DEAD_LETTER)

    assert [d.verdict for d in receiver.deliveries] == ["no matching signature"]


async def test_a_server_error_is_a_failed_delivery_and_send_only_logs_it(
    receiver: WebhookReceiver,
    session: aiohttp.ClientSession,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.status = 503
    webhook = sink(session, receiver.url(), clock)

    with pytest.raises(AlertDeliveryFailed, match="answered HTTP 503"):
        await webhook.deliver(DEAD_LETTER)
    with caplog.at_level(logging.WARNING, logger="paygate.alerts"):
        await webhook.send(DEAD_LETTER)

    assert [r.getMessage() for r in caplog.records] == [
        "alert channel webhook could not deliver alert outbox.dead_letter:"
        " AlertDeliveryFailed: webhook: the receiver answered HTTP 503"
    ]


async def test_a_redirect_is_not_followed(
    receiver: WebhookReceiver, session: aiohttp.ClientSession, clock: FrozenClock
) -> None:
    with pytest.raises(AlertDeliveryFailed, match="answered HTTP 307"):
        await sink(session, receiver.url("/moved"), clock).deliver(DEAD_LETTER)

    assert receiver.deliveries == []


async def test_a_receiver_that_answers_too_late_is_a_failed_delivery(
    receiver: WebhookReceiver, session: aiohttp.ClientSession, clock: FrozenClock
) -> None:
    receiver.delay = 0.5

    with pytest.raises(AlertDeliveryFailed, match="did not answer in time"):
        await sink(session, receiver.url(), clock, timeout=0.05).deliver(DEAD_LETTER)


async def test_an_unreachable_receiver_fails_without_its_url_in_the_log(
    session: aiohttp.ClientSession, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/hooks/t0ken-in-path"
    webhook = sink(session, url, clock)

    with pytest.raises(AlertDeliveryFailed, match="ClientConnectorError"):
        await webhook.deliver(DEAD_LETTER)
    with caplog.at_level(logging.DEBUG):
        await webhook.send(DEAD_LETTER)

    assert "ClientConnectorError" in caplog.text
    assert "t0ken-in-path" not in caplog.text


def test_only_http_urls_are_accepted(session: aiohttp.ClientSession, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="http"):
        sink(session, "ftp://127.0.0.1/hook", clock)
