"""Rate limiting per client IP and per route class, with the answers RFC 6585 and the
IETF RateLimit header draft describe.

Each route class has its own buckets (``<class>:<client ip>``, an IPv6 client's /64
rather than its address: see ``client_ip.limit_key``). Webhooks are charged
for failures only (see ``RateRule.failures_only``): their senders sign what they
send, and a provider's backlog must not be refused for coming from one address. The limiter is the
in-process one by default and the Redis one when configured. When the shared
limiter is unavailable:

* a class with a ``fallback`` (signed webhooks) carries on with per-process buckets:
  their signatures still guard them, and a payment notification must not be lost
  because Redis is down; an alert is raised (at most once a minute per process);
* a class without one is answered 503 at once: nothing waits on a dead Redis, and a
  per-process bucket multiplied by the number of processes would weaken the limit
  exactly where it matters (guessable endpoints).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from adapters.inbound.http.client_ip import client_ip_of, limit_key
from adapters.inbound.http.errors import error_answer, retry_after_header
from adapters.inbound.http.metrics import HttpMetrics
from adapters.inbound.http.routes import RouteClass, RouteTable
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.errors import Unavailable
from core.ports.security import RateDecision, RateLimiter

__all__ = ["OutageAlarm", "RateRule", "rate_limit_middleware"]

logger = logging.getLogger(__name__)

ALERT_KEY = "http:rate-limiter-unavailable"


@attrs.frozen
class RateRule:
    limiter: RateLimiter
    fallback: RateLimiter | None = None
    """Used while ``limiter`` is unavailable; None answers 503 instead."""
    failures_only: bool = False
    """Charge only requests answered 4xx (a bad signature, a malformed or oversized
    body), refusing a client once its failures emptied the bucket: for webhooks, whose
    senders prove who they are, so a provider resending a backlog faster than the
    bucket refills is never refused while a flood of forged ones still is."""


class OutageAlarm:
    """Raises the "shared limiter is down" alert at most once per ``every`` seconds, and
    never lets a slow alert sink hold a request for longer than ``timeout``."""

    def __init__(
        self,
        alerts: AlertSink,
        every: float = 60.0,
        timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._alerts = alerts
        self._every = every
        self._timeout = timeout
        self._clock = clock
        self._last: float | None = None

    async def raise_once(self, route_class: RouteClass, error: Unavailable) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return
        self._last = now
        logger.error(
            "rate limiter unavailable (%s); %s falls back to per-process buckets",
            error,
            route_class,
        )
        alert = Alert(
            severity=Severity.CRITICAL,
            title="Rate limiter unavailable: webhooks use per-process buckets",
            key=ALERT_KEY,
            details={"route_class": str(route_class), "error": str(error)[:200]},
        )
        try:
            async with asyncio.timeout(self._timeout):
                await self._alerts.send(alert)
        except TimeoutError:
            logger.warning("the alert sink did not take the rate-limiter alert in time")


def _headers(decision: RateDecision) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
    }
    if not decision.allowed:
        wait = str(max(1, math.ceil(decision.retry_after)))
        headers["RateLimit-Reset"] = wait
        headers.update(retry_after_header(decision.retry_after))
    return headers


def rate_limit_middleware(
    table: RouteTable,
    rules: Mapping[RouteClass, RateRule],
    alarm: OutageAlarm,
    metrics: HttpMetrics,
) -> Middleware:
    """429 with Retry-After and RateLimit-* once a client's bucket for the route's
    class is empty; classes without a rule are not limited."""

    async def decide(
        route_class: RouteClass, rule: RateRule, key: str, cost: int = 1
    ) -> RateDecision | None:
        try:
            return await rule.limiter.hit(key, cost)
        except Unavailable as exc:
            if rule.fallback is None:
                logger.warning("rate limiter unavailable for %s: %s", route_class, exc)
                return None
            metrics.limiter_fallbacks.labels(str(route_class)).inc()
            await alarm.raise_once(route_class, exc)
            return await rule.fallback.hit(key, cost)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route_class = table.policy(request).route_class
        rule = rules.get(route_class)
        if rule is None:
            return await handler(request)
        key = f"{route_class}:{limit_key(client_ip_of(request))}"
        decision = await decide(route_class, rule, key, 0 if rule.failures_only else 1)
        if decision is None:
            return error_answer(
                request, 503, "temporarily unavailable; retry later", {"Retry-After": "1"}
            )
        if not decision.allowed:
            metrics.refused.labels("rate_limited").inc()
            return error_answer(request, 429, "too many requests; slow down", _headers(decision))
        if not rule.failures_only:
            response = await handler(request)
            response.headers.update(_headers(decision))
            return response
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                await decide(route_class, rule, key)
            raise
        except Unavailable:
            raise  # ours, not the client's: 503, and the sender retries
        except Exception:
            await decide(route_class, rule, key)  # bad input the error middleware answers
            raise
        if 400 <= response.status < 500:
            charged = await decide(route_class, rule, key)
            decision = decision if charged is None else charged
        response.headers.update(_headers(decision))
        return response

    return middleware
