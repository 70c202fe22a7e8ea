"""Prometheus metrics of the HTTP edge, on a registry of their own.

A registry per application (not the library's global one) keeps two apps in one
process, as in the tests, from colliding, and lets composition add its own
collectors to the same ``/metrics``. Labels are bounded sets (route names, outcomes,
reasons): an unknown path is counted as ``unmatched``, never by its text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

__all__ = ["HttpMetrics", "Refresh", "metrics_middleware"]

logger = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[None]]
"""Sets the gauges read at scrape time (a backlog, a breaker's state) before each
``/metrics`` answer."""

CLIENT_GONE = 499
"""Counted for a request whose client went away before the answer (nginx's code)."""
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class HttpMetrics:
    def __init__(
        self, registry: CollectorRegistry | None = None, refresh: Refresh | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._refresh = refresh
        r = self.registry
        self.requests = Counter(
            "paygate_http_requests",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "paygate_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.refused = Counter(
            "paygate_http_refused",
            "Requests refused by a security check",
            ["reason"],
            registry=r,
        )
        self.ipn = Counter(
            "paygate_ipn_notifications",
            "Payment notifications by result",
            ["provider", "result"],
            registry=r,
        )
        self.telegram_updates = Counter(
            "paygate_telegram_updates",
            "Telegram webhook updates by result",
            ["result"],
            registry=r,
        )
        self.limiter_fallbacks = Counter(
            "paygate_rate_limiter_fallbacks",
            "Hits served by a per-process bucket because the shared limiter was unavailable",
            ["route_class"],
            registry=r,
        )
        self.connections_open = Gauge(
            "paygate_http_connections_open",
            "Client connections the HTTP server holds now",
            registry=r,
        )
        self.dependency_up = Gauge(
            "paygate_dependency_up",
            "1 if the dependency answered the latest readiness check, else 0",
            ["name"],
            registry=r,
        )
        self.connections_refused = Counter(
            "paygate_http_connections_refused",
            "Client connections closed at once by a connection cap",
            ["reason"],
            registry=r,
        )

    async def endpoint(self, request: web.Request) -> web.Response:
        """``GET /metrics`` in the Prometheus text format. A refresh that fails (the
        database is away) leaves those gauges at their last value, logged: the
        counters still answer."""
        if self._refresh is not None:
            try:
                await self._refresh()
            except Exception as exc:
                logger.warning("metrics refresh failed: %s: %s", type(exc).__name__, exc)
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(request: web.Request) -> str:
    return request.method if request.method in _METHODS else "other"


def _route_label(request: web.Request) -> str:
    name = request.match_info.route.name
    return name if name else "unmatched"


def metrics_middleware(metrics: HttpMetrics) -> Middleware:
    """Counts every answer by route and status, and times it. Sits outside the error
    middleware, so it sees the status the client got."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_GONE
            raise
        finally:
            route = _route_label(request)
            metrics.requests.labels(route, _method_label(request), str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)

    return middleware
