"""The parts a process may start besides its worker loops: the HTTP server and the
bot (by webhook through the HTTP server, or by long polling)."""

from __future__ import annotations

import functools
import logging

from aiohttp import web

from adapters.inbound.http.app import (
    HttpDeps,
    HttpSettings,
    LimiterFactory,
    build_app,
    rate_rules,
)
from adapters.inbound.http.client_ip import TrustedProxies
from adapters.inbound.http.health import Probe
from adapters.inbound.http.jobs import JobsEndpoint, job_routes
from adapters.inbound.http.security_headers import Environment as HttpEnvironment
from adapters.inbound.http.signed_requests import SigningKeys
from adapters.inbound.http.telegram import TelegramWebhook
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.redis.client import RedisProbe
from adapters.outbound.redis.rate_limiter import RedisRateLimiter
from adapters.outbound.sqla import check_schema_revision
from adapters.outbound.sqla.writable import check_writable
from composition.roots import Process, Roles, Starter, job_loops
from core.domain.audit import AuditRecord
from core.ports.security import RateLimiter

logger = logging.getLogger("paygate")


async def start_http(process: Process) -> None:
    """Serve webhooks, health and metrics on PAYGATE_HTTP_HOST:PAYGATE_HTTP_PORT."""
    config, services = process.config, process.services
    clock = services.clock
    gateway = services.gateway
    telegram: TelegramWebhook | None = None
    if config.public_url and config.telegram.webhook_secret is not None:
        from composition.bot import webhook_handler

        telegram = TelegramWebhook(
            secret=config.telegram.webhook_secret,
            previous_secret=config.telegram.previous_webhook_secret,
            handler=await webhook_handler(process),
        )

    def local(capacity: int, per_second: float) -> RateLimiter:
        return InMemoryRateLimiter(clock, capacity, per_second)

    redis = services.redis
    shared: LimiterFactory | None = None
    readiness: dict[str, Probe] = {
        # Reads alone do not take payments: a read-only database is not ready.
        "database": functools.partial(check_writable, services.engine),
        # A database migrated past this release while it runs (against the upgrade
        # rule) takes the process out of rotation instead of letting it serve on.
        "schema": functools.partial(check_schema_revision, services.engine),
    }
    if redis is not None:
        shared_client = redis

        def shared_limiter(capacity: int, per_second: float) -> RateLimiter:
            return RedisRateLimiter(shared_client, capacity, per_second)

        shared = shared_limiter
        readiness["redis"] = RedisProbe(redis)

    jobs = job_loops(process)

    async def run_job(name: str, key_id: str) -> object:
        async with services.uow() as tx:
            await tx.audit.append(
                AuditRecord(f"scheduler:{key_id}", "job.triggered", f"job:{name}"), clock.now()
            )
            await tx.commit()
        return await jobs.run_now(name)

    deps = HttpDeps(
        clock=clock,
        alerts=services.alerts,
        nonces=services.nonces,
        verify_payment=services.verify_payment,
        gateways={gateway.name: gateway},
        rate_limits=rate_rules(local, shared),
        settings=HttpSettings(
            environment=HttpEnvironment(config.environment.value),
            trusted_proxies=TrustedProxies(config.trusted_proxies),
        ),
        telegram=telegram,
        readiness=readiness,
        signing_keys=SigningKeys(config.job_signing_keys),
        extra_routes=job_routes(JobsEndpoint(run_job, jobs.names)),
    )
    runner = web.AppRunner(build_app(deps), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, config.http_host, config.http_port)
    await site.start()
    logger.info("HTTP listening on %s:%s", config.http_host, config.http_port)
    process.on_cleanup(runner.cleanup)
    if telegram is not None:
        from composition.bot import set_webhook

        await set_webhook(process)


async def start_bot(process: Process) -> None:
    from composition.bot import start_polling_bot

    await start_polling_bot(process)


def starters_for(roles: Roles) -> list[Starter]:
    starters: list[Starter] = []
    if roles.web:
        starters.append(start_http)
    if roles.bot:
        starters.append(start_bot)
    return starters
