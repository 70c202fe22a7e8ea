"""The operations port of a process that takes no web traffic (``worker``, ``bot``):
``/healthz``, ``/readyz`` and ``/metrics`` only.

The same probes and metrics as the web edge, under the middlewares that matter for
them: security headers, metrics, errors, the client's address (trusted proxies) and
the ``metrics`` allowlist, so ``/metrics`` is guarded here exactly as on the web
port. No webhooks, no signed routes: nothing here changes state.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from aiohttp import web

from adapters.inbound.http.allowlist import allowlist_middleware
from adapters.inbound.http.client_ip import IPNetwork, TrustedProxies, client_ip_middleware
from adapters.inbound.http.errors import error_middleware
from adapters.inbound.http.health import Health, Probe
from adapters.inbound.http.metrics import HttpMetrics, metrics_middleware
from adapters.inbound.http.routes import Route, RouteClass, RoutePolicy, RouteTable
from adapters.inbound.http.security_headers import (
    Environment,
    hide_server_software,
    security_headers_middleware,
    strip_server_header,
)

__all__ = ["OpsDeps", "build_ops_app"]


@attrs.frozen
class OpsDeps:
    metrics: HttpMetrics
    readiness: Mapping[str, Probe] = attrs.field(factory=dict)
    degradable: Mapping[str, Probe] = attrs.field(factory=dict)
    """A failure only reports the process degraded (see ``health``)."""
    environment: Environment = Environment.DEVELOPMENT
    trusted_proxies: TrustedProxies = attrs.field(factory=TrustedProxies)
    metrics_allowlist: tuple[IPNetwork, ...] | None = None
    """Who may read ``/metrics``; None: anyone who reaches the port."""
    readiness_timeout: float = 2.0


def build_ops_app(deps: OpsDeps) -> web.Application:
    table = RouteTable()
    allowlists = {} if deps.metrics_allowlist is None else {"metrics": deps.metrics_allowlist}
    app = web.Application(
        middlewares=[
            security_headers_middleware(deps.environment),
            metrics_middleware(deps.metrics),
            error_middleware,
            client_ip_middleware(deps.trusted_proxies),
            allowlist_middleware(table, allowlists),
        ],
        client_max_size=1024,
    )
    app.on_response_prepare.append(strip_server_header)
    hide_server_software()
    health = Health(deps.readiness, deps.readiness_timeout, deps.degradable, deps.metrics)
    probe = RoutePolicy(RouteClass.PROBE)
    for route in (
        Route("GET", "/healthz", health.live, "healthz", probe),
        Route("GET", "/readyz", health.ready, "readyz", probe),
        Route(
            "GET",
            "/metrics",
            deps.metrics.endpoint,
            "metrics",
            RoutePolicy(RouteClass.PROBE, allowlist="metrics"),
        ),
    ):
        table.add(app.router, route)
    return app
