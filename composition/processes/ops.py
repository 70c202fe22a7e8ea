"""The operations port of ``worker`` and ``bot`` (issue 18, observability):
``/healthz``, ``/readyz`` and ``/metrics`` on PAYGATE_OPS_HOST:PAYGATE_OPS_PORT.

A process with the web role serves these on its HTTP port already; the others serve
them here when PAYGATE_OPS_PORT is set. ``/metrics`` is guarded by
PAYGATE_PRIVATE_ALLOWLIST as on the web port (this host only, by default, in
production), and the port itself listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import functools
import logging
import socket

from aiohttp import web

from adapters.inbound.http.client_ip import TrustedProxies
from adapters.inbound.http.health import Probe
from adapters.inbound.http.metrics import HttpMetrics, Refresh
from adapters.inbound.http.ops import OpsDeps, build_ops_app
from adapters.inbound.http.security_headers import Environment as HttpEnvironment
from adapters.outbound.breaker import BreakerState, CircuitBreaker
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.redis.client import RedisProbe
from adapters.outbound.sqla import check_schema_revision
from adapters.outbound.sqla.outbox_backlog import read_outbox_backlog
from adapters.outbound.sqla.writable import check_writable
from adapters.outbound.telegram.client import TelegramBotClient
from composition.config import ConfigError
from composition.processes.process import Process
from core.ports.errors import Unavailable

__all__ = ["metrics_refresh", "start_ops", "telegram_connected"]

logger = logging.getLogger("paygate")


async def telegram_connected(client: TelegramBotClient) -> None:
    """Telegram answered getMe and the breaker lets calls through."""
    if not client.connected:
        raise Unavailable("Telegram has not answered since the start")
    if client.breaker.state is BreakerState.OPEN:
        raise Unavailable("the Telegram circuit is open")


def metrics_refresh(process: Process) -> Refresh:
    """What ``/metrics`` reads when scraped: the breakers and the outbox backlog."""
    services = process.services
    breakers: dict[str, CircuitBreaker] = {"telegram": services.telegram.breaker}
    if isinstance(services.gateway, NowPaymentsGateway):
        breakers[services.gateway.name] = services.gateway.breaker
    engine, clock = services.engine, services.clock
    return services.metrics.scrape_refresh(
        lambda: read_outbox_backlog(engine, clock.now()), breakers
    )


async def start_ops(process: Process) -> None:
    """Serve the ops port when PAYGATE_OPS_PORT is set (never beside the web role)."""
    config, services = process.config, process.services
    if process.roles.web or config.ops_port is None:
        return
    readiness: dict[str, Probe] = {
        "database": functools.partial(check_writable, services.engine),
        "schema": functools.partial(check_schema_revision, services.engine),
    }
    degradable: dict[str, Probe] = {
        "telegram": functools.partial(telegram_connected, services.telegram)
    }
    if services.redis is not None:
        degradable["redis"] = RedisProbe(services.redis)
    metrics = HttpMetrics(services.metrics.registry, metrics_refresh(process))
    app = build_ops_app(
        OpsDeps(
            metrics=metrics,
            readiness=readiness,
            degradable=degradable,
            environment=HttpEnvironment(config.environment.value),
            trusted_proxies=TrustedProxies(config.trusted_proxies),
            metrics_allowlist=config.allowlists.private,
        )
    )
    try:
        family = socket.AF_INET6 if ":" in config.ops_host else socket.AF_INET
        sock = socket.create_server((config.ops_host, config.ops_port), family=family)
    except OSError as exc:
        raise ConfigError(
            f"PAYGATE_OPS_HOST:PAYGATE_OPS_PORT {config.ops_host}:{config.ops_port} cannot "
            f"be listened on ({exc.strerror or exc}); give this process a free port"
        ) from exc
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    process.on_cleanup(runner.cleanup)
    port = sock.getsockname()[1]
    logger.info(
        "ops port listening on %s:%s (/healthz, /readyz, /metrics)",
        config.ops_host,
        port,
        extra={"ops_port": port},
    )
