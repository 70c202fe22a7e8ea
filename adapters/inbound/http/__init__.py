"""PayGate's HTTP edge: webhooks, health, metrics, and the security middlewares.

Composition builds :class:`HttpDeps` from already-made objects and calls
:func:`build_app`; the result runs under any aiohttp runner.
"""

from adapters.inbound.http.app import (
    DEFAULT_BUCKETS,
    HTTP_DEPS,
    BucketSize,
    HttpDeps,
    HttpSettings,
    LimiterFactory,
    build_app,
    rate_rules,
)
from adapters.inbound.http.client_ip import TrustedProxies, parse_networks
from adapters.inbound.http.health import Probe, unit_of_work_probe
from adapters.inbound.http.metrics import HttpMetrics
from adapters.inbound.http.rate_limit import RateRule
from adapters.inbound.http.routes import Route, RouteClass, RoutePolicy
from adapters.inbound.http.security_headers import Environment
from adapters.inbound.http.signed_requests import SigningKeys, sign_request
from adapters.inbound.http.telegram import TelegramWebhook, UpdateHandler

__all__ = [
    "DEFAULT_BUCKETS",
    "HTTP_DEPS",
    "BucketSize",
    "Environment",
    "HttpDeps",
    "HttpMetrics",
    "HttpSettings",
    "LimiterFactory",
    "Probe",
    "RateRule",
    "Route",
    "RouteClass",
    "RoutePolicy",
    "SigningKeys",
    "TelegramWebhook",
    "TrustedProxies",
    "UpdateHandler",
    "build_app",
    "parse_networks",
    "rate_rules",
    "sign_request",
    "unit_of_work_probe",
]
