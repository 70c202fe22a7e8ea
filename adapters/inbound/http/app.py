"""The aiohttp application of PayGate's HTTP edge, built from plain objects.

Composition resolves the object graph (use cases, gateways, stores, limiters) and
hands it over as :class:`HttpDeps`; nothing here reads the environment or knows a
container. Middlewares, outermost first:

1. security headers (every answer gets them, errors included);
2. metrics (counts the status the client actually got);
3. errors (the one place failures become answers);
4. client IP (trusted proxies);
5. CIDR allowlists (per route, off unless configured);
6. rate limits (per client IP and route class);
7. signed machine requests (routes that require them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import attrs
from aiohttp import web

from adapters.inbound.http.allowlist import allowlist_middleware
from adapters.inbound.http.body import BODY_TIMEOUT
from adapters.inbound.http.client_ip import IPNetwork, TrustedProxies, client_ip_middleware
from adapters.inbound.http.dashboard import Dashboard
from adapters.inbound.http.errors import error_middleware
from adapters.inbound.http.health import Health, Probe
from adapters.inbound.http.ipn_batches import MAX_BATCH, MAX_WRITERS, NotificationBatcher
from adapters.inbound.http.metrics import HttpMetrics, metrics_middleware
from adapters.inbound.http.payments import PaymentWebhook
from adapters.inbound.http.rate_limit import OutageAlarm, RateRule, rate_limit_middleware
from adapters.inbound.http.routes import Route, RouteClass, RoutePolicy, RouteTable
from adapters.inbound.http.security_headers import (
    Environment,
    hide_server_software,
    security_headers_middleware,
    strip_server_header,
)
from adapters.inbound.http.signed_requests import (
    DEFAULT_WINDOW_SECONDS,
    SignedRequestVerifier,
    SigningKeys,
    signed_request_middleware,
)
from adapters.inbound.http.telegram import TelegramWebhook, TelegramWebhookEndpoint
from core.ports.alerts import AlertSink
from core.ports.clock import Clock
from core.ports.payments import PaymentGateway
from core.ports.security import NonceStore, RateLimiter
from core.services.verify_payment import VerifyPaymentIntent

__all__ = [
    "DEFAULT_BUCKETS",
    "HTTP_DEPS",
    "BucketSize",
    "HttpDeps",
    "HttpSettings",
    "LimiterFactory",
    "build_app",
    "rate_rules",
]

KIB = 1024


@attrs.frozen
class BucketSize:
    capacity: int
    per_second: float


DEFAULT_BUCKETS: Mapping[RouteClass, BucketSize] = {
    # Charged for failed (4xx) requests only: a sender that keeps failing signature
    # checks is cut off, a provider sending a backlog never is.
    RouteClass.WEBHOOK: BucketSize(120, 20.0),
    RouteClass.MACHINE: BucketSize(30, 1.0),
    RouteClass.PROBE: BucketSize(60, 10.0),
    RouteClass.DEFAULT: BucketSize(60, 5.0),
}


LimiterFactory = Callable[[int, float], RateLimiter]
"""Makes a limiter with buckets of ``capacity`` tokens refilled at ``per_second``."""


def rate_rules(
    local: LimiterFactory,
    shared: LimiterFactory | None = None,
    buckets: Mapping[RouteClass, BucketSize] = DEFAULT_BUCKETS,
) -> dict[RouteClass, RateRule]:
    """The rate-limit rules of every route class.

    ``local`` makes per-process limiters (the in-memory one); ``shared`` makes
    limiters shared by every process (the Redis one), when configured. With a shared
    limiter, webhooks fall back to per-process buckets on an outage, other classes are
    refused while it lasts, and probes always stay per-process, so an outage of the
    shared store never fails a liveness check. Webhooks are charged for failures
    only: a signed sender is never refused for its volume."""
    rules: dict[RouteClass, RateRule] = {}
    for route_class, size in buckets.items():
        webhook = route_class is RouteClass.WEBHOOK
        if shared is None or route_class is RouteClass.PROBE:
            rules[route_class] = RateRule(local(size.capacity, size.per_second), None, webhook)
            continue
        fallback = local(size.capacity, size.per_second) if webhook else None
        rules[route_class] = RateRule(shared(size.capacity, size.per_second), fallback, webhook)
    return rules


@attrs.frozen
class HttpSettings:
    environment: Environment = Environment.DEVELOPMENT
    trusted_proxies: TrustedProxies = attrs.field(factory=TrustedProxies)
    allowlists: Mapping[str, tuple[IPNetwork, ...]] = attrs.field(factory=dict)
    """By name: a payment provider's name, ``telegram``, ``metrics``, ``jobs``. Unset is off."""
    ipn_body_limit: int = 16 * KIB
    """A NowPayments IPN is about 1 KiB; more is answered 413 unread. Kept small because
    a forged body costs CPU in proportion to its size before it is refused."""
    telegram_body_limit: int = 1024 * KIB
    machine_body_limit: int = 64 * KIB
    signed_window_seconds: int = DEFAULT_WINDOW_SECONDS
    readiness_timeout: float = 2.0
    ipn_batch: int = MAX_BATCH
    """Payment notifications applied in one unit of work at most (1: one by one)."""
    ipn_writers: int = MAX_WRITERS
    """Batches of payment notifications written at once."""
    body_timeout: float | None = None
    """Seconds a request body may take to arrive (408 after); None: no limit."""


_PROVIDER_NAME = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,31}\Z")


@attrs.frozen
class HttpDeps:
    clock: Clock
    alerts: AlertSink
    nonces: NonceStore
    """Telegram update dedupe and signed-request nonces."""
    verify_payment: VerifyPaymentIntent
    gateways: Mapping[str, PaymentGateway]
    """By provider name; each gets ``POST /webhooks/<name>``."""
    rate_limits: Mapping[RouteClass, RateRule]
    """See :func:`rate_rules`. A class without a rule is not limited."""
    settings: HttpSettings = attrs.field(factory=HttpSettings)
    telegram: TelegramWebhook | None = None
    """None: no Telegram webhook route (the bot polls)."""
    signing_keys: SigningKeys = attrs.field(factory=SigningKeys)
    readiness: Mapping[str, Probe] = attrs.field(factory=dict)
    degradable: Mapping[str, Probe] = attrs.field(factory=dict)
    """Probed like ``readiness``, but a failure only reports the process degraded:
    it still takes its traffic without them (see ``health``)."""
    metrics: HttpMetrics = attrs.field(factory=HttpMetrics)
    extra_routes: Sequence[Route] = ()
    """More routes under the same middlewares (the jobs and admin API of later work)."""
    dashboard: Dashboard | None = None
    """The owners' dashboard under ``/dashboard``; None: not served."""


HTTP_DEPS = web.AppKey("paygate.http.deps", HttpDeps)


def _check_gateways(gateways: Mapping[str, PaymentGateway]) -> None:
    for name, gateway in gateways.items():
        if _PROVIDER_NAME.match(name) is None or name == "telegram":
            raise ValueError(f"{name!r} cannot name a payment webhook route")
        if gateway.name != name:
            raise ValueError(f"the gateway under {name!r} is {gateway.name!r}")


def build_app(deps: HttpDeps) -> web.Application:
    """The application, ready for an ``AppRunner``. Also makes aiohttp's fallback
    ``Server`` header version-free for the whole process (see
    :func:`~adapters.inbound.http.security_headers.hide_server_software`)."""
    settings = deps.settings
    _check_gateways(deps.gateways)
    table = RouteTable()
    metrics = deps.metrics
    verifier = SignedRequestVerifier(
        deps.signing_keys, deps.nonces, deps.clock, settings.signed_window_seconds
    )
    app = web.Application(
        middlewares=[
            security_headers_middleware(settings.environment),
            metrics_middleware(metrics),
            error_middleware,
            client_ip_middleware(
                settings.trusted_proxies,
                warn_untrusted=settings.environment is Environment.PRODUCTION,
            ),
            allowlist_middleware(table, settings.allowlists),
            rate_limit_middleware(table, deps.rate_limits, OutageAlarm(deps.alerts), metrics),
            signed_request_middleware(table, verifier, metrics),
        ],
        client_max_size=max(
            settings.ipn_body_limit, settings.telegram_body_limit, settings.machine_body_limit
        ),
    )
    app[HTTP_DEPS] = deps
    if settings.body_timeout is not None:
        app[BODY_TIMEOUT] = settings.body_timeout
    app.on_response_prepare.append(strip_server_header)
    hide_server_software()

    health = Health(deps.readiness, settings.readiness_timeout, deps.degradable, metrics)
    probe = RoutePolicy(RouteClass.PROBE)
    routes = [
        Route("GET", "/healthz", health.live, "healthz", probe),
        Route("GET", "/readyz", health.ready, "readyz", probe),
        Route(
            "GET",
            "/metrics",
            metrics.endpoint,
            "metrics",
            RoutePolicy(RouteClass.PROBE, allowlist="metrics"),
        ),
    ]
    if deps.telegram is not None:
        endpoint = TelegramWebhookEndpoint(
            deps.telegram, deps.nonces, metrics, settings.telegram_body_limit
        )
        routes.append(
            Route(
                "POST",
                "/webhooks/telegram",
                endpoint.handle,
                "webhook.telegram",
                RoutePolicy(
                    RouteClass.WEBHOOK, "telegram", body_limit=settings.telegram_body_limit
                ),
            )
        )
    batcher = NotificationBatcher(deps.verify_payment, settings.ipn_batch, settings.ipn_writers)

    async def finish_batch(_: web.Application) -> None:
        await batcher.close()

    app.on_cleanup.append(finish_batch)
    for name, gateway in deps.gateways.items():
        webhook = PaymentWebhook(gateway, batcher, metrics, settings.ipn_body_limit)
        routes.append(
            Route(
                "POST",
                f"/webhooks/{name}",
                webhook.handle,
                f"webhook.{name}",
                RoutePolicy(RouteClass.WEBHOOK, name, body_limit=settings.ipn_body_limit),
            )
        )
    if deps.dashboard is not None:
        deps.dashboard.install(app)
        routes.extend(deps.dashboard.routes())
    for route in (*routes, *deps.extra_routes):
        table.add(app.router, route)
    return app
