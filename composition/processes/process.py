"""A PayGate process: build the containers, start what it runs, stop gracefully.

One function serves every role; ``paygate run`` turns everything on, ``web``,
``bot`` and ``worker`` one part each (the parts: :mod:`.web`, :mod:`.bot`, and the
worker loops here; which role starts which: :mod:`.run`). SIGTERM and SIGINT stop the process: the
worker loops finish the run in flight (releasing nothing half-done), the bot stops
polling, the HTTP server stops accepting and drains, then resources close.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

import attrs
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.inbound.telegram.runner import BotRunner
from adapters.inbound.worker.loops import Job, WorkerLoops
from adapters.inbound.worker.outbox_dispatcher import OutboxDispatcher
from adapters.outbound.breaker import OutageAlerts
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.sqla import check_schema_revision, safe_url
from adapters.outbound.telegram.client import TelegramBotClient
from composition.config import Config
from composition.containers import Infrastructure, UseCases
from composition.metrics import ProcessMetrics
from composition.processes.secrets_reload import SecretRefresher
from composition.version import paygate_version
from core.domain.signing import MacKeyring
from core.ports.alerts import AlertSink
from core.ports.clock import Clock
from core.ports.conversations import ConversationStore
from core.ports.errors import Unavailable
from core.ports.languages import LanguageBook
from core.ports.outbox_wakeup import OutboxWakeup
from core.ports.payments import PaymentGateway
from core.ports.repositories import UnitOfWorkFactory
from core.ports.security import NonceStore, RateLimiter
from core.ports.subscriber_directory import PersonNames
from core.services.api_tokens import ApiTokens
from core.services.bundles import ManageBundle
from core.services.channel_settings import ChangeSales, SetDonationBounds, SetPayoutWallet, SetTiers
from core.services.check_rights import CheckRights
from core.services.checkout import ResolveOffer, StartCheckout
from core.services.coupon_prices import CouponPrices
from core.services.coupons import OwnerCoupons
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_alerts import DashboardAlerts
from core.services.dashboard_exports import DashboardExports
from core.services.dashboard_payments import DashboardPayments
from core.services.dashboard_sessions import DashboardSessions
from core.services.dashboard_subscriber_actions import SubscriberActions
from core.services.dashboard_subscribers import SubscriberSearch
from core.services.donations import StartDonation
from core.services.expiry import ExpireSubscriptions
from core.services.join_requests import HandleJoinRequest
from core.services.publish_posts import PublishPosts
from core.services.reconcile import Reconcile
from core.services.redeem_coupon import RedeemCoupon
from core.services.register_channel import RegisterChannel
from core.services.resume_sales import ResumeSales
from core.services.seller_requests import SellerRequests
from core.services.stars import AnswerPreCheckout, RecordStarsPayment, RefundStarsPayment
from core.services.stars_link import StarsLinkMembers, SwitchStarsLink
from core.services.stars_renewals import CancelStarsRenewal
from core.services.subscriber_status import ResendAccess, SubscriberStatus
from core.services.trials import SetTrial, TakeTrial
from core.services.verify_payment import VerifyPaymentIntent
from core.services.wordings import OwnWording

logger = logging.getLogger("paygate")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@attrs.frozen
class Roles:
    web: bool = False
    bot: bool = False
    worker: bool = False

    def describe(self) -> str:
        parts = (("web", self.web), ("bot", self.bot), ("worker", self.worker))
        return "+".join(name for name, on in parts if on) or "nothing"


MONOLITH = Roles(web=True, bot=True, worker=True)


@attrs.frozen
class Services:
    """The resolved object graph: plain objects, built once at start-up."""

    clock: Clock
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    keyring: MacKeyring
    nonces: NonceStore
    alerts: AlertSink
    user_limiter: RateLimiter
    gateway: PaymentGateway
    telegram: TelegramBotClient
    redis: Redis | None
    bot_username: str
    verify_payment: VerifyPaymentIntent
    resolve_offer: ResolveOffer
    checkout: StartCheckout
    pre_checkout: AnswerPreCheckout
    stars_payment: RecordStarsPayment
    stars_refund: RefundStarsPayment | None
    cancel_renewal: CancelStarsRenewal | None
    donate: StartDonation
    join_requests: HandleJoinRequest
    register_channel: RegisterChannel
    set_tiers: SetTiers
    set_trial: SetTrial
    stars_link: SwitchStarsLink
    stars_link_members: StarsLinkMembers
    take_trial: TakeTrial
    set_donations: SetDonationBounds
    set_wallet: SetPayoutWallet
    sales: ChangeSales
    manage_bundle: ManageBundle
    status: SubscriberStatus
    resend_access: ResendAccess
    dispatch: OutboxDispatcher
    expire: ExpireSubscriptions
    publish: PublishPosts
    reconcile: Reconcile
    outbox_wakeup: OutboxWakeup
    conversations: ConversationStore
    languages: LanguageBook
    check_rights: CheckRights
    resume_sales: ResumeSales
    metrics: ProcessMetrics
    # --- dashboard (issue 20)
    dashboard: OwnerDashboard
    dashboard_sessions: DashboardSessions
    dashboard_payments: DashboardPayments
    dashboard_exports: DashboardExports
    dashboard_alerts: DashboardAlerts
    subscriber_search: SubscriberSearch
    subscriber_actions: SubscriberActions
    # --- end dashboard
    api_tokens: ApiTokens  # the HTTP API (issue 20)
    own_wording: OwnWording
    owner_coupons: OwnerCoupons
    redeem_coupon: RedeemCoupon
    coupon_prices: CouponPrices
    seller_requests: SellerRequests | None = None
    """With ``PAYGATE_SELLERS=approval``: requests to sell, decided by the operators."""
    # --- dashboard subscribers (issue 20)
    person_names: PersonNames | None = None
    """The username each person last showed the bot (noted by the bot, searched by the
    dashboard's Subscribers section)."""
    # --- end dashboard subscribers


class _Provides(Protocol[T_co]):
    """A provider of a ``T_co`` (dependency-injector's are invariant in what they
    provide; a field typed by the port takes the provider of an adapter)."""

    def __call__(self, *args: Any, **kwargs: Any) -> T_co: ...


async def resolve(provider: _Provides[T]) -> T:
    # A provider that depends on an async Resource answers with an awaitable.
    value: Any = provider()
    return cast(T, await value if inspect.isawaitable(value) else value)


async def resolve_services(infra: Infrastructure, uc: UseCases) -> Services:
    """Each service from the container that declares it, once."""
    services = Services(
        clock=await resolve(infra.clock),
        engine=await resolve(infra.engine),
        uow=await resolve(infra.uow),
        keyring=await resolve(infra.keyring),
        nonces=await resolve(infra.nonces),
        alerts=await resolve(infra.alerts),
        user_limiter=await resolve(infra.user_limiter),
        gateway=await resolve(infra.gateway),
        telegram=await resolve(infra.telegram),
        redis=await resolve(infra.redis),
        bot_username=await resolve(infra.bot_username),
        verify_payment=await resolve(uc.verify_payment),
        resolve_offer=await resolve(uc.resolve_offer),
        checkout=await resolve(uc.checkout),
        pre_checkout=await resolve(uc.pre_checkout),
        stars_payment=await resolve(uc.stars_payment),
        stars_refund=await resolve(uc.stars_refund),
        cancel_renewal=await resolve(uc.cancel_renewal),
        donate=await resolve(uc.donate),
        join_requests=await resolve(uc.join_requests),
        register_channel=await resolve(uc.register_channel),
        set_tiers=await resolve(uc.set_tiers),
        set_trial=await resolve(uc.set_trial),
        stars_link=await resolve(uc.stars_link),
        stars_link_members=await resolve(uc.stars_link_members),
        take_trial=await resolve(uc.take_trial),
        set_donations=await resolve(uc.set_donations),
        set_wallet=await resolve(uc.set_wallet),
        sales=await resolve(uc.sales),
        manage_bundle=await resolve(uc.manage_bundle),
        status=await resolve(uc.status),
        resend_access=await resolve(uc.resend_access),
        dispatch=await resolve(uc.dispatch),
        expire=await resolve(uc.expire),
        publish=await resolve(uc.publish),
        reconcile=await resolve(uc.reconcile),
        outbox_wakeup=await resolve(infra.outbox_wakeup),
        conversations=await resolve(infra.conversations),
        languages=await resolve(infra.languages),
        check_rights=await resolve(uc.check_rights),
        resume_sales=await resolve(uc.resume_sales),
        metrics=await resolve(infra.metrics),
        seller_requests=await resolve(uc.seller_requests),
        dashboard=await resolve(uc.dashboard),
        dashboard_sessions=await resolve(infra.dashboard_sessions),
        dashboard_payments=await resolve(uc.dashboard_payments),
        dashboard_exports=await resolve(uc.dashboard_exports),
        dashboard_alerts=await resolve(uc.dashboard_alerts),
        api_tokens=await resolve(uc.api_tokens),
        own_wording=await resolve(uc.own_wording),
        person_names=await resolve(infra.person_names),
        subscriber_search=await resolve(uc.subscriber_search),
        subscriber_actions=await resolve(uc.subscriber_actions),
        owner_coupons=await resolve(uc.owner_coupons),
        redeem_coupon=await resolve(uc.redeem_coupon),
        coupon_prices=await resolve(uc.coupon_prices),
    )
    report_provider_outages(services.gateway, services.alerts)
    return services


# --- degraded, not down (issue 18)
def report_provider_outages(gateway: PaymentGateway, alerts: AlertSink) -> None:
    """NowPayments lost (its breaker opens) and back (it closes): one alert each,
    through the process's alerts."""
    if isinstance(gateway, NowPaymentsGateway):
        gateway.breaker.listen(
            OutageAlerts(
                alerts, "NowPayments", "checkouts fail; payment notifications are still taken"
            )
        )


# --- end degraded, not down


def job_loops(process: Process) -> WorkerLoops:
    """This process's jobs: its running loops, or (in a web process) a set to run on
    demand, so a scheduler's trigger never runs a job twice at once in one process."""
    if process.loops is not None:
        return process.loops
    if process.on_demand_jobs is None:
        process.on_demand_jobs = WorkerLoops(worker_jobs(process.services, process.config))
    return process.on_demand_jobs


def worker_jobs(services: Services, config: Config) -> list[Job]:
    """Each job's runs are counted (metrics); the served dispatcher counts per message."""
    jobs = [
        Job(
            "dispatch",
            services.dispatch.run_once,
            config.dispatch_every,
            # Served, not run in rounds: woken by commits, polling every interval.
            serve=lambda stopping: services.dispatch.run(
                services.outbox_wakeup, stopping, config.dispatch_every
            ),
        ),
        Job("sweep", services.expire.execute, config.sweep_every),
        Job("broadcast", services.publish.run_once, config.broadcast_every),
        Job("reconcile", services.reconcile.run_once, config.reconcile_every),
        # Paused channels every run, selling ones every 15th (see CheckRights).
        Job("rights", services.check_rights.run_once, config.rights_check_every),
    ]
    count = services.metrics.counted_job
    return [attrs.evolve(job, run=count(job.name, job.run)) for job in jobs]


@attrs.define
class Process:
    """A started process: its containers and what runs. ``stop()`` ends it."""

    config: Config
    infra: Infrastructure
    services: Services
    roles: Roles
    loops: WorkerLoops | None = None
    """The worker loops, running (the worker role)."""
    on_demand_jobs: WorkerLoops | None = None
    """Without the worker role: the jobs a scheduler triggers over HTTP, run on demand."""
    bot_runner: BotRunner | None = None
    """The bot, once started, by webhook or polling (shared by the HTTP server and the
    bot part, so one process never runs two)."""
    secrets: SecretRefresher | None = None
    """Re-reads the secrets on SIGHUP and a timer, when the root gave a way to."""
    stopped: asyncio.Event = attrs.field(factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = attrs.field(factory=list)
    _cleanups: list[Callable[[], Awaitable[None]]] = attrs.field(factory=list)

    def stop(self) -> None:
        self.stopped.set()

    def on_cleanup(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        self._cleanups.append(cleanup)

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                logger.exception("%s stopped on an error; stopping the process", name)
                self.stop()

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def close(self) -> None:
        """Workers first (their runs in flight finish while Telegram and the database
        are still up), then the bot and the HTTP server, then the resources."""
        if self.loops is not None:
            self.loops.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for cleanup in reversed(self._cleanups):
            try:
                await cleanup()
            except Exception:
                logger.exception("error while stopping")
        await self.infra.shutdown_resources()  # type: ignore[misc]


Starter = Callable[[Process], Awaitable[None]]
"""Starts one more part of a process (HTTP server, bot) and registers its cleanup."""


async def _check_schema(infra: Infrastructure, config: Config) -> None:
    # Only the engine is open yet: a refused start has not called Telegram, taken a
    # Redis connection or listened on a port.
    try:
        engine = await resolve(infra.engine)
        await wait_for_database(lambda: check_schema_revision(engine), config.db_start_wait_seconds)
    except BaseException:
        await infra.shutdown_resources()  # type: ignore[misc]
        raise


async def wait_for_database(
    check: Callable[[], Awaitable[None]],
    within: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``check`` until it passes, retrying Unavailable (a database that is not up
    yet, or restarting) with growing pauses for at most ``within`` seconds, then
    raising it. Anything else (a schema at the wrong revision) is raised at once:
    waiting does not migrate a database."""
    deadline = clock() + within
    pause = 0.5
    while True:
        try:
            await check()
            return
        except Unavailable as exc:
            left = deadline - clock()
            if left <= 0:
                raise
            pause = min(pause, left)
            logger.warning("the database is not reachable yet (%s); retrying in %.1f s", exc, pause)
            await sleep(pause)
            pause = min(pause * 2, 5.0)


async def start_process(
    config: Config,
    roles: Roles,
    *,
    infra: Infrastructure | None = None,
    starters: list[Starter] | None = None,
    reload: Callable[[], Config] | None = None,
    redact: Callable[[tuple[str, ...]], None] = lambda _: None,
) -> Process:
    """Build and start; the caller awaits ``process.stopped`` then ``process.close()``.
    ``reload`` reads the configuration again: given, the secrets are re-read on
    SIGHUP and every ``PAYGATE_SECRETS_REFRESH_SECONDS`` (``redact`` learns them).

    Raises SchemaMismatch, before anything else is opened or started, when the
    database is not at the schema revision this release needs."""
    infra = infra or Infrastructure(config=config)
    uc = UseCases(infra=infra, config=config)
    await _check_schema(infra, config)
    await infra.init_resources()  # type: ignore[misc]
    try:
        services = await resolve_services(infra, uc)
    except BaseException:
        await infra.shutdown_resources()  # type: ignore[misc]
        raise
    process = Process(config, infra, services, roles)
    if reload is not None:
        process.secrets = SecretRefresher(
            config, reload, services.clock, services.keyring, services.gateway, add_redacted=redact
        )
        process.spawn(process.secrets.run(process.stopped), "secrets refresh")
    try:
        if roles.worker:
            process.loops = WorkerLoops(worker_jobs(services, config))
            process.spawn(process.loops.run(), "worker loops")
        for starter in starters or []:
            await starter(process)
    except BaseException:
        await process.close()
        raise
    logger.info("%s", start_line(process), extra={"role": roles.describe()})
    return process


# --- never silently wrong (issue 18): one start line says what runs, and how ---


def start_line(process: Process) -> str:
    """Version, mode, database (password masked), callback URLs and which optional
    parts are on: what an operator checks first when something is not reached."""
    config, services = process.config, process.services
    public = config.public_url
    webhook = public is not None and config.telegram.webhook_secret is not None
    telegram_updates = (
        f"{public}/webhooks/telegram" if webhook else ("polling" if process.roles.bot else "-")
    )
    parts = {
        "redis": config.redis_url is not None,
        "admin alerts": config.telegram.admin_chat_id is not None,
        "nowpayments login": config.nowpayments.account_email is not None,
        "job keys": config.job_keys is not None,
        "telegram": services.telegram.connected,
    }
    optional = ", ".join(f"{name} {'on' if on else 'off'}" for name, on in parts.items())
    return (
        f"paygate {process.roles.describe()} started: version {paygate_version()}, "
        f"mode {config.environment.value}, database {safe_url(config.database_url)}, "
        f"IPN callback {config.callback_base}/webhooks/nowpayments, "
        f"Telegram updates {telegram_updates}; {optional}"
    )


# --- end never silently wrong ---


async def serve(
    config: Config,
    roles: Roles,
    starters: list[Starter] | None = None,
    *,
    infra: Infrastructure | None = None,
    reload: Callable[[], Config] | None = None,
    redact: Callable[[tuple[str, ...]], None] = lambda _: None,
) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully. ``infra``: containers a test
    root has overridden (crash tests); by default the production ones. SIGHUP re-reads
    the secrets (see :func:`start_process`)."""
    process = await start_process(
        config, roles, infra=infra, starters=starters, reload=reload, redact=redact
    )
    loop = asyncio.get_running_loop()
    if process.secrets is not None:
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, process.secrets.trigger)
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Event loops without signal support (Windows) raise here; there Ctrl-C still
        # ends the process through KeyboardInterrupt and the finally below.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, process.stop)
    try:
        await process.stopped.wait()
        logger.info("stopping: finishing the work in flight")
    finally:
        await process.close()
        logger.info("stopped")
