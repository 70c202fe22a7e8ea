"""The HTTP part of a process: webhooks (the bot's too, when it runs by webhook),
health, metrics and the scheduler's job triggers."""

from __future__ import annotations

import asyncio
import functools
import logging
import resource

import aiohttp
from aiohttp import web

from adapters.inbound.http.allowlist import NOWPAYMENTS_SENDERS, TELEGRAM_SENDERS
from adapters.inbound.http.api import (
    AccessTokens,
    AlertOperations,
    Api,
    ApiSigningKeys,
    ChannelOperations,
    CouponOperations,
    ExportOperations,
    PaymentOperations,
    SubscriberOperations,
)
from adapters.inbound.http.app import (
    BucketSize,
    HttpDeps,
    HttpSettings,
    LimiterFactory,
    build_app,
    rate_rules,
)
from adapters.inbound.http.client_ip import IPNetwork, TrustedProxies
from adapters.inbound.http.connections import (
    ConnectionGuard,
    ConnectionLimits,
    fit_to_descriptors,
)
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.alerts import AlertsSection
from adapters.inbound.http.dashboard.coupons import CouponsSection
from adapters.inbound.http.dashboard.exports import ExportsSection
from adapters.inbound.http.dashboard.payments import PaymentsSection
from adapters.inbound.http.dashboard.repost import RepostSection
from adapters.inbound.http.dashboard.signin import SignIn, SignInSettings
from adapters.inbound.http.dashboard.subscribers import SubscribersSection
from adapters.inbound.http.dashboard.tokens import TokensSection
from adapters.inbound.http.dashboard.wording import WordingSection
from adapters.inbound.http.health import Probe
from adapters.inbound.http.jobs import JobsEndpoint, job_routes
from adapters.inbound.http.metrics import HttpMetrics
from adapters.inbound.http.protocol import edge_protocol, malformed_log
from adapters.inbound.http.routes import Route
from adapters.inbound.http.security_headers import Environment as HttpEnvironment
from adapters.inbound.http.signed_requests import SigningKeys
from adapters.inbound.http.telegram import TelegramWebhook, WebhookSecretRing
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.oidc import OpenIdConnectProvider
from adapters.outbound.redis.client import RedisProbe
from adapters.outbound.redis.rate_limiter import RedisRateLimiter
from adapters.outbound.sqla import check_schema_revision
from adapters.outbound.sqla.writable import check_writable
from composition.config import Config
from composition.processes.bot import set_webhook, webhook_handler
from composition.processes.ops import metrics_refresh, telegram_connected
from composition.processes.process import Process, job_loops
from core.domain.audit import AuditRecord
from core.ports.security import RateLimiter
from core.services.dashboard_repost import RepostOffer
from core.services.wording_preview import WordingPreview

logger = logging.getLogger("paygate")

LINGER_SECONDS = 2.0


async def start_http(process: Process) -> None:
    """Serve webhooks, health and metrics on PAYGATE_HTTP_HOST:PAYGATE_HTTP_PORT."""
    config, services = process.config, process.services
    clock = services.clock
    gateway = services.gateway
    telegram: TelegramWebhook | None = None
    if config.public_url and config.telegram.webhook_secret is not None:
        ring = WebhookSecretRing(
            config.telegram.webhook_secret, config.telegram.previous_webhook_secret
        )
        telegram = TelegramWebhook(
            secret=config.telegram.webhook_secret,
            previous_secret=config.telegram.previous_webhook_secret,
            handler=await webhook_handler(process),
            ring=ring,
        )
        if process.secrets is not None:
            # A re-read webhook secret is checked at once and given to Telegram.
            process.secrets.watch_webhook(ring, functools.partial(set_webhook, process))

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
    degradable: dict[str, Probe] = {}
    if redis is not None:
        shared_client = redis

        def shared_limiter(capacity: int, per_second: float) -> RateLimiter:
            return RedisRateLimiter(shared_client, capacity, per_second)

        shared = shared_limiter
        # Webhooks fall back to per-process rate limits without it: degraded, not down.
        degradable["redis"] = RedisProbe(redis)

    # --- degraded, not down (issue 18): payments are taken while Telegram is away ---
    degradable["telegram"] = functools.partial(telegram_connected, services.telegram)
    # --- end degraded, not down ---
    jobs = job_loops(process)
    # The process's business metrics share the registry (observability, issue 18).
    metrics = HttpMetrics(services.metrics.registry, metrics_refresh(process))
    limits = _connection_limits(process)

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
            allowlists=route_allowlists(config, gateway.name),
            body_timeout=limits.body_timeout,
        ),
        metrics=metrics,
        telegram=telegram,
        readiness=readiness,
        degradable=degradable,
        signing_keys=SigningKeys(config.job_signing_keys),
        extra_routes=(
            *job_routes(JobsEndpoint(run_job, jobs.names)),
            *owners_api(process, shared or local),
        ),
        dashboard=owners_dashboard(process),
    )
    runner = web.AppRunner(build_app(deps), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    assert runner.server is not None
    protocol = edge_protocol(
        runner.server,
        HttpEnvironment(config.environment.value),
        malformed_log(),
        access_log=None,
        keepalive_timeout=limits.keepalive_timeout,
        # A body left unread (a 408, a 413) is drained this long at most, then cut:
        # enough for a sender to get the answer, too short to hold the connection.
        lingering_time=min(limits.body_timeout, LINGER_SECONDS),
    )
    guard = ConnectionGuard(
        protocol,
        limits,
        # Webhooks arrive from the providers' published addresses, or through our proxies.
        reserved_for=(*config.trusted_proxies, *NOWPAYMENTS_SENDERS, *TELEGRAM_SENDERS),
        metrics=metrics,
    )
    listener = await asyncio.get_running_loop().create_server(
        guard, config.http_host, config.http_port, reuse_address=True
    )
    logger.info(
        "HTTP listening on %s:%s (at most %d connections, %d per client)",
        config.http_host,
        config.http_port,
        limits.max_connections,
        limits.max_per_client,
    )

    async def stop_http() -> None:
        listener.close()  # no new connections; the runner ends the open ones
        await runner.cleanup()
        await listener.wait_closed()

    process.on_cleanup(stop_http)
    if telegram is not None:
        await set_webhook(process)


# --- dashboard (issue 20)


def owners_dashboard(process: Process) -> Dashboard | None:
    """The dashboard under ``/dashboard`` (``PAYGATE_DASHBOARD=on``): logins signed with
    the bot's token, the session cookie Secure in production."""
    config, services = process.config, process.services
    if not config.dashboard:
        return None
    config.require("telegram")
    token = config.telegram.token
    assert token is not None  # checked by require()
    return Dashboard(
        services.dashboard,
        services.dashboard_sessions,
        services.nonces,
        services.clock,
        DashboardSettings((token.reveal(),), secure_cookie=config.is_production),
        (
            web_login(process),
            SubscribersSection(services.subscriber_search, services.subscriber_actions),
            PaymentsSection(services.dashboard_payments),
            ExportsSection(services.dashboard_exports, services.clock),
            AlertsSection(services.dashboard_alerts),
            TokensSection(services.api_tokens, config.api),
            WordingSection(WordingPreview(services.uow, services.own_wording)),
            CouponsSection(services.owner_coupons, services.dashboard),
            RepostSection(repost_offer(process)),
        ),
        languages=services.languages,
    )


def repost_offer(process: Process) -> RepostOffer:
    """The bot's ``/repost`` for the dashboard and the API: owner-only, with a reason."""
    services = process.services
    return RepostOffer(services.uow, services.clock, services.dashboard, services.publish)


def web_login(process: Process) -> SignIn:
    """The sign-in page, with "Log in with Telegram" when ``PAYGATE_OIDC_CLIENT_ID``
    is set: the provider's client on an HTTP session of its own, closed with the process."""
    config, services = process.config, process.services
    provider: OpenIdConnectProvider | None = None
    oidc = config.oidc
    if oidc.client_id is not None and oidc.client_secret is not None:
        session = aiohttp.ClientSession()
        process.on_cleanup(session.close)
        provider = OpenIdConnectProvider(
            session,
            services.clock,
            issuer=oidc.issuer,
            client_id=oidc.client_id,
            client_secret=oidc.client_secret,
        )
    return SignIn(
        provider,
        services.keyring,
        services.nonces,
        services.clock,
        SignInSettings(
            config.callback_base,
            secure_cookie=config.is_production,
            bot_username=services.bot_username or None,
        ),
    )


# --- end dashboard

# --- the HTTP API (issue 20)

API_BUCKET = BucketSize(60, 1.0)
"""Calls of one API token: a burst of 60, then one a second (per token, every process
sharing it when Redis is configured)."""


def owners_api(process: Process, limiters: LimiterFactory) -> list[Route]:
    """The JSON API under ``/api/v1`` (``PAYGATE_API=on``): access tokens signed with
    ``PAYGATE_API_SIGNING_KEYS`` (re-keyed when the secrets are re-read)."""
    config, services = process.config, process.services
    if not config.api:
        return []
    keys = ApiSigningKeys(config.api_keys)
    if process.secrets is not None:
        process.secrets.watch_api_keys(keys.rekey)
    api = Api(
        services.api_tokens,
        AccessTokens(keys, services.clock),
        limiters(API_BUCKET.capacity, API_BUCKET.per_second),
        [
            ChannelOperations(services.dashboard, repost_offer(process)),
            SubscriberOperations(services.subscriber_search, services.subscriber_actions),
            PaymentOperations(services.dashboard_payments),
            ExportOperations(services.dashboard_exports),
            AlertOperations(services.dashboard_alerts),
            CouponOperations(services.owner_coupons),
        ],
    )
    return api.routes()


# --- end the HTTP API


def route_allowlists(config: Config, provider: str) -> dict[str, tuple[IPNetwork, ...]]:
    """The allowlists by the names routes give them: the payment provider's webhook,
    Telegram's, and the private endpoints (``metrics``, ``jobs``). A list left off is
    absent, and its routes are open."""
    edge = config.allowlists
    named = {
        provider: edge.nowpayments,
        "telegram": edge.telegram,
        "metrics": edge.private,
        "jobs": edge.private,
    }
    return {name: networks for name, networks in named.items() if networks is not None}


def _connection_limits(process: Process) -> ConnectionLimits:
    config = process.config
    wanted = ConnectionLimits(
        max_connections=config.http_max_connections,
        max_per_client=config.http_max_connections_per_client,
        reserved=config.http_reserved_connections,
        header_timeout=config.http_header_timeout,
        body_timeout=config.http_body_timeout,
        keepalive_timeout=config.http_keepalive_timeout,
    )
    descriptors, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if descriptors == resource.RLIM_INFINITY:
        return wanted
    limits = fit_to_descriptors(wanted, descriptors)
    if limits != wanted:
        logger.warning(
            "PAYGATE_HTTP_MAX_CONNECTIONS=%d does not fit this process's file limit (%d); "
            "serving at most %d connections (raise the limit with ulimit -n or LimitNOFILE)",
            wanted.max_connections,
            descriptors,
            limits.max_connections,
        )
    return limits
