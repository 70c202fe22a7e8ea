"""Schemathesis against the live API (a real socket on loopback, its own event loop
in a thread): for every operation of the OpenAPI document, generated requests get no
5xx, answers that conform to the document (status, content type, headers, body), and
401 without the token. Then every operation's success, which generated ids seldom
reach, is checked against the document too (a subscriber granted days, the late
payment granted by hand, an alert recorded, tiers of every span with a trial and a
bundle, a coupon, so the answers hold something)."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from core.domain.coupon import Discount
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.ports.alert_log import RecordedAlert
from core.ports.alerts import Severity
from core.services.coupons import CouponTerms
from tests.contract.http.api_site import PAYER, api_site
from tests.contract.http.shop import OWNER

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.ignored_auth,
    schemathesis.checks.unsupported_method,
]


EXAMPLES = 12
"""Per operation and mode: enough to reach each parameter's and body's edges while
the whole module stays well under a minute on a small machine."""


class Live:
    def __init__(self, base: str, authorization: str, channel_id: str, intent_id: str) -> None:
        self.base = base
        self.authorization = authorization
        self.channel_id = channel_id
        self.intent_id = intent_id


@contextmanager
def live_api() -> Iterator[Live]:
    """The API of ``api_site`` served from a thread until the block ends."""
    started: queue.Queue[Live | BaseException] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        async with api_site() as site:
            bearer = await site.bearer(scope="write")
            base = str(site.client.make_url("")).rstrip("/")
            now = site.shop.clock.now()
            await site.alert_log.record(
                RecordedAlert(now, Severity.CRITICAL, "Late money", "k", ChannelId(site.channel_id))
            )
            await site.add_plans()
            terms = CouponTerms(Discount.off_amount(Money.of("2", "USD")), "SCHEMA-2", tier=1)
            await site.coupons.create(OWNER, terms)
            started.put(Live(base, bearer["Authorization"], site.channel_id, site.late.id))
            await asyncio.to_thread(stop.wait)

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the test, not lost in the thread
            started.put(exc)

    thread = threading.Thread(target=run, name="live-api", daemon=True)
    thread.start()
    first = started.get(timeout=30)
    if isinstance(first, BaseException):
        raise first
    try:
        yield first
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with live_api() as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(live: Live) -> Any:
    return schemathesis.openapi.from_url(f"{live.base}/api/v1/openapi.json")


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


# Through Hypothesis directly: schemathesis's pytest loader (from_fixture) does not run
# under pytest 9 (it reads a node attribute pytest removed).
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_answers_the_document_describes(
    api_schema: Any, live: Live, mode: GenerationMode
) -> None:
    operations = _operations(api_schema)
    assert len(operations) == 18
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": live.authorization}, checks=CHECKS)

        exercise()


def test_every_operations_success_conforms(api_schema: Any, live: Live) -> None:
    auth = {"Authorization": live.authorization}
    one = {"channel_id": live.channel_id}
    person = one | {"user_id": str(PAYER)}
    payment = {"intent_id": live.intent_id}
    subscriber = "/api/v1/channels/{channel_id}/subscribers/{user_id}"
    reason = {"reason": "schema check"}
    calls: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = [
        ("/api/v1/overview", "GET", {}, {}, None),
        ("/api/v1/channels", "GET", {}, {}, None),
        ("/api/v1/channels/{channel_id}", "GET", one, {}, None),
        ("/api/v1/channels/{channel_id}/pause", "POST", one, {}, reason),
        ("/api/v1/channels/{channel_id}/resume", "POST", one, {}, reason),
        ("/api/v1/channels/{channel_id}/repost", "POST", one, {}, reason),
        (subscriber + "/grant", "POST", person, {}, reason | {"days": 30}),
        (subscriber + "/resend", "POST", person, {}, reason),
        ("/api/v1/subscribers", "GET", {}, {"q": str(PAYER), "status": "active"}, None),
        (subscriber, "GET", person, {}, None),
        ("/api/v1/payments", "GET", {}, {"q": live.intent_id}, None),
        ("/api/v1/payments/{intent_id}", "GET", payment, {}, None),
        ("/api/v1/payments/{intent_id}/grant", "POST", payment, {}, reason),
        ("/api/v1/exports/{kind}", "GET", {"kind": "subscribers"}, {}, None),
        ("/api/v1/exports/{kind}", "GET", {"kind": "payments"}, {}, None),
        ("/api/v1/exports/{kind}", "GET", {"kind": "donations"}, {}, None),
        ("/api/v1/alerts", "GET", {}, {}, None),
        ("/api/v1/coupons", "GET", {}, {}, None),
        (subscriber + "/revoke", "POST", person, {}, reason),
    ]
    tried = set()
    for path, method, parameters, query, body in calls:
        operation = api_schema[path][method]
        kwargs: dict[str, Any] = {"path_parameters": parameters, "query": query}
        if body is not None:
            kwargs["body"] = body
            kwargs["media_type"] = "application/json"
        response = operation.Case(**kwargs).call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code == 200, (path, response.text)
        assert response.text not in ("", "[]", "{}")
        tried.add((path, method))
    assert len(tried) == len(_operations(api_schema)) - 1  # all but the token exchange
