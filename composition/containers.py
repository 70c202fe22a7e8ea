"""The object graph, declared once with dependency-injector.

``Infrastructure`` builds the adapters (engine, HTTP session, Telegram client, payment
gateway...) as async Resources with start-up and shutdown; ``UseCases`` builds the
core's use cases on top of it. Roots create the containers, ``await
init_resources()``, pull the plain objects they need and pass them down; nothing
outside this package knows dependency-injector exists.

Tests and the demo swap a piece by overriding its provider (e.g. a controllable
clock), which is the point of the hexagon: infrastructure is a choice made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.inbound.worker.outbox_dispatcher import DispatchSettings, OutboxDispatcher
from adapters.outbound.alerts import (
    AlertRoute,
    AlertService,
    EmailAlertSink,
    LogAlertSink,
    TelegramAlertSink,
    WebhookAlertSink,
    WebhookSecret,
)
from adapters.outbound.alerts.recording_sink import RecordingAlertSink
from adapters.outbound.crypto.fernet_cipher import FernetCipher
from adapters.outbound.memory.nonce_store import InMemoryNonceStore
from adapters.outbound.memory.outbox_wakeup import InProcessOutboxWakeup
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.sellers import AllowlistedSellers, EveryoneSells
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from adapters.outbound.postgres.outbox_wakeup import PostgresOutboxWakeup
from adapters.outbound.redis.client import connect_redis
from adapters.outbound.redis.conversations import RedisConversationStore
from adapters.outbound.redis.nonce_store import RedisNonceStore
from adapters.outbound.redis.rate_limiter import RedisRateLimiter
from adapters.outbound.redis.sessions import RedisSessionStore
from adapters.outbound.redis.telegram_pacing import RedisTelegramPacing
from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine
from adapters.outbound.sqla.alert_log import SqlAlertLog
from adapters.outbound.sqla.api_tokens import SqlApiTokenStore
from adapters.outbound.sqla.conversations import SqlConversationStore
from adapters.outbound.sqla.dashboard import SqlChannelFigures, SqlSessionStore
from adapters.outbound.sqla.languages import SqlLanguageBook
from adapters.outbound.sqla.payment_lookup import SqlExportPages, SqlPaymentLookup
from adapters.outbound.sqla.subscriber_directory import SqlPersonNames, SqlSubscriberDirectory
from adapters.outbound.sqla.wordings import SqlWordingBook
from adapters.outbound.sqlite.outbox_wakeup import SqliteOutboxWakeup
from adapters.outbound.system.clock import OffsetFileClock, SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from adapters.outbound.telegram.chat_access import TelegramChatAccess
from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.messenger import TelegramMessenger
from adapters.outbound.telegram.pacing import PacedRateLimiter, PacingLimits, Rate
from adapters.outbound.telegram.stars_gateway import STARS_PROVIDER, TelegramStarsGateway
from adapters.outbound.waking_uow import WakingUnitOfWorkFactory
from composition.config import Config, ConfigError
from composition.metrics import ProcessMetrics
from core.domain.ids import ChatId, UserId
from core.domain.signing import MacKeyring
from core.domain.tier import Rail
from core.ports.alert_log import AlertLog
from core.ports.alerts import Severity
from core.ports.clock import Clock, IdGenerator
from core.ports.conversations import ConversationStore
from core.ports.dashboard import SessionStore
from core.ports.outbox_wakeup import OutboxWakeup
from core.ports.payments import PaymentGateway, RefundingGateway
from core.ports.repositories import UnitOfWorkFactory
from core.ports.security import NonceStore, RateLimiter, Secret
from core.ports.stars_renewals import RenewingGateway
from core.ports.telegram import Messenger
from core.services.api_tokens import ApiTokens
from core.services.broadcasts import BroadcastSettings, PlanBroadcasts, RecordPost
from core.services.bundles import ManageBundle
from core.services.channel_settings import ChangeSales, SetDonationBounds, SetPayoutWallet, SetTiers
from core.services.check_rights import CheckRights, RightsCheckSettings
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
from core.services.expiry import ExpireSubscriptions, ExpirySettings
from core.services.fulfilment import Fulfilment, FulfilmentSettings
from core.services.fulfilment import fulfilment_settings as fulfilment_settings_of
from core.services.grant_access import GrantAccess
from core.services.invoicing import InvoiceIssuer
from core.services.join_requests import HandleJoinRequest
from core.services.publish_posts import PublishPosts
from core.services.reconcile import Reconcile
from core.services.redeem_coupon import RedeemCoupon
from core.services.refresh_link import RefreshLink
from core.services.register_channel import RegisterChannel
from core.services.resume_sales import ResumeSales
from core.services.seller_requests import ApprovedSellers, SellerRequests
from core.services.settle_outbox import RetryPolicy, SettleOutbox
from core.services.stars import AnswerPreCheckout, RecordStarsPayment, RefundStarsPayment
from core.services.stars_link import StarsLinkMembers, SwitchStarsLink
from core.services.stars_renewals import CancelStarsRenewal, StarsRenewals
from core.services.subscriber_status import ResendAccess, SubscriberStatus
from core.services.trials import SetTrial, TakeTrial
from core.services.verify_payment import PaymentPolicy, VerifyPaymentIntent
from core.services.wordings import OwnWording

logger = logging.getLogger("paygate")


async def _engine(config: Config) -> AsyncIterator[AsyncEngine]:
    # The overflow matches the pool: one setting bounds the process's connections
    # (at twice it), and the default (5 + 5) is what it was before the setting.
    engine = create_engine(
        config.database_url,
        pool_size=config.db_pool_size,
        max_overflow=config.db_pool_size,
        timeouts=config.db_timeouts,
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def _http_session() -> AsyncIterator[aiohttp.ClientSession]:
    session = aiohttp.ClientSession(raise_for_status=False)
    try:
        yield session
    finally:
        await session.close()


def telegram_limiter(config: Config, redis: Redis | None) -> PacedRateLimiter:
    """The bot's pacing. With Redis, every process books its calls in the same buckets
    (Telegram counts per bot); without, each paces alone at the full limits."""
    token = config.telegram.token
    assert token is not None  # checked by require()
    pacing = PacingLimits(
        admin=Rate(config.telegram.admin_calls_per_second, 1.0),
        processes=config.telegram.processes,
    )
    if redis is None:
        return PacedRateLimiter(pacing)
    # One set of buckets per bot: the token's public part, its bot id, names them.
    bot_id = token.reveal().partition(":")[0]
    prefix = f"paygate:pacing:{bot_id if bot_id.isdigit() else 'bot'}:"
    return PacedRateLimiter(pacing, shared=RedisTelegramPacing(redis, prefix=prefix))


async def _telegram(
    config: Config, redis: Redis | None, metrics: ProcessMetrics
) -> AsyncIterator[TelegramBotClient]:
    config.require("telegram")
    token = config.telegram.token
    assert token is not None  # checked by require()
    client = TelegramBotClient(
        token.reveal(),
        api_url=config.telegram.api_url,
        limiter=telegram_limiter(config, redis),
        observe=metrics.telegram_call,  # observability (issue 18)
    )
    # --- degraded, not down (issue 18) ---
    # Telegram unreachable at start: with the bot's username configured nothing needs
    # getMe's answer now, so the process starts and keeps asking in the background
    # (payments are recorded; their Telegram effects wait in the outbox). Without it,
    # the process waits here for Telegram instead of exiting.
    reconnecting: asyncio.Task[None] | None = None
    if not await client.start_degraded():
        if config.telegram.bot_username is None:
            logger.warning(
                "waiting for Telegram to learn the bot's username; set "
                "PAYGATE_TELEGRAM_BOT_USERNAME to start without it"
            )
            await client.reconnect()
        else:
            reconnecting = asyncio.create_task(client.reconnect(), name="telegram reconnect")
    try:
        yield client
    finally:
        if reconnecting is not None:
            reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconnecting
        await client.stop()
    # --- end degraded, not down ---


def _nowpayments(session: aiohttp.ClientSession, config: Config) -> NowPaymentsGateway:
    config.require("nowpayments", "ipn")
    np = config.nowpayments
    assert np.api_key is not None and np.ipn_secret is not None  # checked by require()
    return NowPaymentsGateway(
        session,
        NowPaymentsSettings(
            api_key=np.api_key,
            ipn_secret=np.ipn_secret,
            previous_ipn_secret=np.previous_ipn_secret,
            ipn_callback_url=f"{config.callback_base}/webhooks/nowpayments",
            account_email=np.account_email,
            account_password=np.account_password,
        ),
        base_url=np.api_url,
    )


# ---------------------------------------------------------------- alerts (operator's surface)


def alert_channels(
    config: Config,
    clock: Clock,
    ids: IdGenerator,
    messenger: Messenger,
    session: aiohttp.ClientSession,
) -> list[AlertRoute]:
    """The configured channels, each with its least severity: the log always; the
    admin chat when PAYGATE_ADMIN_CHAT_ID is set, else each operator's private chat
    (PAYGATE_OPERATOR_IDS); email and a signed webhook when configured."""
    alerts = config.alerts
    routes = [AlertRoute(LogAlertSink(), alerts.log_min_severity)]
    if config.telegram.admin_chat_id is not None:
        chats = [ChatId(config.telegram.admin_chat_id)]
    else:
        # A user's private chat with the bot has the user's id.
        chats = [ChatId(operator) for operator in config.operators]
    for chat in chats:
        name = "telegram" if len(chats) == 1 else f"telegram.{chat}"
        routes.append(
            AlertRoute(TelegramAlertSink(messenger, chat, name=name), alerts.telegram_min_severity)
        )
    if alerts.email is not None:
        context = ssl.create_default_context(
            cafile=None if alerts.email.ca_file is None else str(alerts.email.ca_file)
        )
        routes.append(
            AlertRoute(
                EmailAlertSink(alerts.email.settings, clock, tls_context=context),
                alerts.email.min_severity,
            )
        )
    if alerts.webhook is not None:
        routes.append(
            AlertRoute(
                WebhookAlertSink(
                    session,
                    alerts.webhook.url.reveal(),
                    WebhookSecret.parse(alerts.webhook.secret),
                    clock,
                    ids,
                ),
                alerts.webhook.min_severity,
            )
        )
    return routes


def _alerts(
    config: Config,
    clock: Clock,
    ids: IdGenerator,
    messenger: Messenger,
    telegram: TelegramBotClient,
    session: aiohttp.ClientSession,
    alert_log: AlertLog,
) -> AlertService:
    # Every alert is also recorded for the dashboard's Alerts section (issue 20).
    recorded = AlertRoute(RecordingAlertSink(alert_log, clock), Severity.INFO)
    service = AlertService(
        [*alert_channels(config, clock, ids, messenger, session), recorded],
        clock,
        repeat_window=config.alerts.repeat_window,
    )
    # The pacing is built before the alerts, which send through it (the admin chat).
    telegram.limiter.report_outages_to(service)
    telegram.report_outages_to(service)  # degraded, not down (issue 18)
    return service


# ---------------------------------------------------------------- end alerts


def _alert_history(config: Config) -> timedelta:
    return timedelta(days=config.alert_history_days)


def _payment_pages(config: Config) -> str | None:
    """Where late money's alert links to (issue 20): the dashboard's payment pages
    under PAYGATE_PUBLIC_URL, when the dashboard is on and that address is known."""
    if not config.dashboard or config.public_url is None:
        return None
    return f"{config.public_url.rstrip('/')}/dashboard/payments/"


async def _redis(config: Config) -> AsyncIterator[Redis | None]:
    """A Redis client when PAYGATE_REDIS_URL is set; None keeps everything in process."""
    if config.redis_url is None:
        yield None
        return
    client = connect_redis(config.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def _outbox_wakeup(database_url: str) -> AsyncIterator[OutboxWakeup]:
    """The wake-up that reaches every process on ``database_url``, open while in use:
    the database is what processes that share work share. On Postgres, LISTEN/NOTIFY
    (any number of web and worker processes); on a SQLite file, a short poll of its
    commit counter (a web and a worker process on one file); otherwise, this process
    only."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        postgres = PostgresOutboxWakeup(database_url)
        try:
            yield postgres
        finally:
            await postgres.close()
    elif url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        sqlite = SqliteOutboxWakeup(Path(str(url.database)))
        try:
            yield sqlite
        finally:
            await sqlite.close()
    else:
        yield InProcessOutboxWakeup()


def _nonces(redis: Redis | None, clock: Clock) -> NonceStore:
    return InMemoryNonceStore(clock) if redis is None else RedisNonceStore(redis)


def _user_limiter(redis: Redis | None, clock: Clock) -> RateLimiter:
    # Per user: a burst of 20 actions, then one every two seconds.
    if redis is None:
        return InMemoryRateLimiter(clock, 20, 0.5)
    return RedisRateLimiter(redis, 20, 0.5, prefix="paygate:users:")


def _conversations(redis: Redis | None, engine: AsyncEngine, clock: Clock) -> ConversationStore:
    """Where the bot keeps each person's step, shared by every process: Redis when
    PAYGATE_REDIS_URL is set (no database write per message), the database otherwise."""
    if redis is None:
        return SqlConversationStore(engine, clock)
    return RedisConversationStore(redis, clock)


# ---------------------------------------------------------------- dashboard (issue 20)


def _session_store(redis: Redis | None, engine: AsyncEngine, clock: Clock) -> SessionStore:
    """Dashboard sessions, shared by every web process: Redis when PAYGATE_REDIS_URL is
    set, the database otherwise."""
    if redis is None:
        return SqlSessionStore(engine, clock)
    return RedisSessionStore(redis)


def _operators(config: Config) -> frozenset[UserId]:
    return frozenset(UserId(user) for user in config.operators)


# ---------------------------------------------------------------- end dashboard


def _clock(config: Config) -> Clock:
    """The system clock; shifted by a shared file only where a test asked for it."""
    if config.clock_offset_file is None:
        return SystemClock()
    return OffsetFileClock(config.clock_offset_file)


def _cipher(keys: Secret) -> FernetCipher:
    return FernetCipher.from_env_value(keys.reveal())


def _listed_sellers(config: Config) -> list[UserId]:
    return [UserId(user) for user in config.sellers]


def _seller_rule(config: Config) -> str:
    """``PAYGATE_SELLERS``: ``approval`` (the listed, and those the operators approved,
    may own channels), ``listed`` (only they may), else ``anyone``."""
    if config.sellers_by_approval:
        return "approval"
    return "listed" if config.sellers else "anyone"


def _seller_requests(config: Config, uow: UnitOfWorkFactory, clock: Clock) -> SellerRequests | None:
    """Requests to sell, decided by PAYGATE_OPERATOR_IDS: only with
    ``PAYGATE_SELLERS=approval``."""
    if not config.sellers_by_approval:
        return None
    return SellerRequests(uow, clock, (UserId(user) for user in config.operators))


def _bot_username(config: Config, client: TelegramBotClient) -> str:
    username = config.telegram.bot_username or client.bot.username
    if not username:
        raise ConfigError("PAYGATE_TELEGRAM_BOT_USERNAME is not set and getMe gave none")
    return username


def _stars_gateway(config: Config, telegram: TelegramBotClient) -> RenewingGateway | None:
    """Telegram Stars (PAYGATE_TELEGRAM_STARS), a second rail beside crypto; None
    where the bot sells for crypto only."""
    return TelegramStarsGateway(telegram) if config.telegram.stars else None


def _stars_issuer(
    uow: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    keyring: MacKeyring,
    gateway: PaymentGateway | None,
) -> InvoiceIssuer | None:
    return None if gateway is None else InvoiceIssuer(uow, clock, ids, keyring, gateway)


def _rails(stars: PaymentGateway | None) -> frozenset[Rail]:
    return frozenset({Rail.CRYPTO} if stars is None else {Rail.CRYPTO, Rail.STARS})


def _by_provider(*gateways: PaymentGateway | None) -> dict[str, PaymentGateway]:
    """Every provider the reconciler asks, by name (a Stars invoice nobody paid is
    closed as abandoned, as a crypto one is)."""
    return {g.name: g for g in gateways if g is not None}


def _stars_name(stars: PaymentGateway | None) -> str:
    return STARS_PROVIDER if stars is None else stars.name


def _stars_renewals(
    uow: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    keyring: MacKeyring,
    stars: PaymentGateway | None,
) -> StarsRenewals | None:
    """Stars subscriptions' first payments and renewals (tiers sold ``+auto``)."""
    return None if stars is None else StarsRenewals(uow, clock, ids, keyring, stars.name)


def _cancel_renewal(
    uow: UnitOfWorkFactory, clock: Clock, stars: RenewingGateway | None
) -> CancelStarsRenewal | None:
    """/stoprenewal: a subscriber stops their Stars subscriptions' renewals."""
    return None if stars is None else CancelStarsRenewal(uow, clock, stars)


def _stars_refunds(
    uow: UnitOfWorkFactory,
    clock: Clock,
    keyring: MacKeyring,
    stars: RefundingGateway | None,
    verify: VerifyPaymentIntent,
) -> RefundStarsPayment | None:
    if stars is None:
        return None
    return RefundStarsPayment(uow, clock, keyring, stars, verify, stars.name)


class Infrastructure(containers.DeclarativeContainer):
    config = providers.Dependency(instance_of=Config)

    clock = providers.Singleton(_clock, config)
    ids = providers.Singleton(RandomIdGenerator)
    # One keyring per process: a secrets reload re-keys it in place (SecretRefresher).
    keyring = providers.Singleton(lambda c, clock: c.keyring_at(clock.now()), config, clock)
    cipher = providers.Singleton(_cipher, config.provided.encryption_keys)

    engine = providers.Resource(_engine, config)
    # Commits that queue outbox work wake the dispatchers (this process's and others').
    outbox_wakeup = providers.Resource(_outbox_wakeup, config.provided.database_url)
    # The store's own units of work; every use case gets them through ``uow``.
    store_uow = providers.Singleton(
        SqlUnitOfWorkFactory, engine, cipher, config.provided.db_timeouts
    )
    uow = providers.Singleton(WakingUnitOfWorkFactory, store_uow, outbox_wakeup)

    http_session = providers.Resource(_http_session)
    gateway = providers.Singleton(_nowpayments, http_session, config)

    redis = providers.Resource(_redis, config)
    # --- observability (issue 18): the process's business metrics ---
    metrics = providers.Singleton(ProcessMetrics)
    # --- end observability
    telegram = providers.Resource(_telegram, config, redis, metrics)
    stars_gateway = providers.Singleton(_stars_gateway, config, telegram)
    # What each chat reads: the messenger renders every notice in it at send time.
    languages = providers.Singleton(SqlLanguageBook, engine)
    # Owners' own wording (issue 22), read at send time like the language.
    wordings = providers.Singleton(SqlWordingBook, engine)
    messenger = providers.Singleton(TelegramMessenger, telegram, languages, wordings)
    chat_access = providers.Singleton(TelegramChatAccess, telegram)
    bot_username = providers.Callable(_bot_username, config, telegram)

    # --- dashboard (issue 20): the recent alerts, recorded by every process
    alert_log = providers.Singleton(SqlAlertLog, engine, providers.Callable(_alert_history, config))
    # --- end dashboard
    alerts = providers.Singleton(
        _alerts, config, clock, ids, messenger, telegram, http_session, alert_log
    )
    nonces = providers.Singleton(_nonces, redis, clock)
    user_limiter = providers.Singleton(_user_limiter, redis, clock)
    conversations = providers.Singleton(_conversations, redis, engine, clock)
    # The store only with PAYGATE_SELLERS=approval (a bare allowlist needs none).
    sellers = providers.Selector(
        providers.Callable(_seller_rule, config),
        approval=providers.Singleton(
            ApprovedSellers, uow, providers.Callable(_listed_sellers, config)
        ),
        listed=providers.Singleton(AllowlistedSellers, providers.Callable(_listed_sellers, config)),
        anyone=providers.Singleton(EveryoneSells),
    )
    # --- dashboard (issue 20)
    dashboard_sessions = providers.Singleton(
        DashboardSessions,
        providers.Singleton(_session_store, redis, engine, clock),
        clock,
        ids,
    )
    channel_figures = providers.Singleton(SqlChannelFigures, engine)
    payment_lookup = providers.Singleton(SqlPaymentLookup, engine)
    export_pages = providers.Singleton(SqlExportPages, engine)
    # The Subscribers section: the usernames people show the bot, and its pages.
    person_names = providers.Singleton(SqlPersonNames, engine)
    subscriber_directory = providers.Singleton(SqlSubscriberDirectory, engine)
    # --- end dashboard
    # --- the HTTP API (issue 20)
    api_token_store = providers.Singleton(SqlApiTokenStore, engine)
    # --- end the HTTP API


class UseCases(containers.DeclarativeContainer):
    infra = providers.DependenciesContainer()
    config = providers.Dependency(instance_of=Config)

    policy = providers.Callable(
        lambda c: PaymentPolicy(c.paying_status, c.underpayment_tolerance), config
    )
    fulfilment_settings = providers.Callable(
        lambda c: FulfilmentSettings(grant_mode=c.grant_mode), config
    )
    payment_pages = providers.Callable(_payment_pages, config)  # dashboard (issue 20)
    expiry_settings = providers.Callable(
        lambda c: ExpirySettings(reminder_leads_hours=c.reminder_leads_hours, grace=c.grace),
        config,
    )
    # Not configurable: the rules' own defaults (tests and benchmarks override them).
    dispatch_settings: providers.Provider[DispatchSettings | None] = providers.Object(None)
    retry_policy: providers.Provider[RetryPolicy | None] = providers.Object(None)
    rights_check_settings: providers.Provider[RightsCheckSettings | None] = providers.Object(None)

    fulfilment = providers.Singleton(Fulfilment, infra.ids, fulfilment_settings)
    gateway = infra.gateway
    issuer = providers.Singleton(
        InvoiceIssuer, infra.uow, infra.clock, infra.ids, infra.keyring, infra.gateway
    )
    verify_payment = providers.Singleton(
        VerifyPaymentIntent,
        infra.uow,
        infra.clock,
        infra.keyring,
        fulfilment,
        infra.alerts,
        policy,
        payment_pages,
    )
    stars_name = providers.Callable(_stars_name, infra.stars_gateway)
    pre_checkout = providers.Singleton(AnswerPreCheckout, infra.uow, infra.keyring, stars_name)
    stars_renewals = providers.Singleton(
        _stars_renewals, infra.uow, infra.clock, infra.ids, infra.keyring, infra.stars_gateway
    )
    stars_payment = providers.Singleton(
        RecordStarsPayment, verify_payment, stars_name, stars_renewals
    )
    cancel_renewal = providers.Singleton(
        _cancel_renewal, infra.uow, infra.clock, infra.stars_gateway
    )
    stars_refund = providers.Singleton(
        _stars_refunds, infra.uow, infra.clock, infra.keyring, infra.stars_gateway, verify_payment
    )
    register_channel = providers.Singleton(
        RegisterChannel, infra.uow, infra.clock, infra.ids, infra.chat_access, infra.sellers
    )
    set_tiers = providers.Singleton(SetTiers, infra.uow, infra.clock, infra.chat_access)
    set_trial = providers.Singleton(SetTrial, infra.uow, infra.clock, infra.chat_access)
    stars_link = providers.Singleton(SwitchStarsLink, infra.uow, infra.clock, infra.chat_access)
    stars_link_members = providers.Singleton(StarsLinkMembers, infra.uow, infra.clock, infra.ids)
    take_trial = providers.Singleton(
        TakeTrial, infra.uow, infra.clock, infra.ids, fulfilment_settings
    )
    set_wallet = providers.Singleton(SetPayoutWallet, infra.uow, infra.clock, infra.chat_access)
    set_donations = providers.Singleton(
        SetDonationBounds, infra.uow, infra.clock, infra.chat_access
    )
    sales = providers.Singleton(ChangeSales, infra.uow, infra.clock)
    manage_bundle = providers.Singleton(ManageBundle, infra.uow, infra.clock)
    check_rights = providers.Singleton(
        CheckRights, infra.uow, infra.clock, infra.chat_access, sales, rights_check_settings
    )
    resume_sales = providers.Singleton(ResumeSales, infra.uow, infra.chat_access, sales)
    seller_requests = providers.Singleton(_seller_requests, config, infra.uow, infra.clock)
    own_wording = providers.Singleton(OwnWording, infra.uow, infra.clock, infra.wordings)
    stars_issuer = providers.Singleton(
        _stars_issuer, infra.uow, infra.clock, infra.ids, infra.keyring, infra.stars_gateway
    )
    resolve_offer = providers.Singleton(
        ResolveOffer, infra.uow, infra.keyring, providers.Callable(_rails, infra.stars_gateway)
    )
    # --- coupons and access codes (issue 21)
    coupon_prices = providers.Singleton(CouponPrices, infra.uow, infra.clock)
    owner_coupons = providers.Singleton(OwnerCoupons, infra.uow, infra.clock, infra.ids)
    redeem_coupon = providers.Singleton(
        RedeemCoupon,
        infra.uow,
        infra.clock,
        infra.ids,
        providers.Callable(lambda s: fulfilment_settings_of(s).grant_mode, fulfilment_settings),
        providers.Callable(_rails, infra.stars_gateway),
    )
    # --- end coupons
    checkout = providers.Singleton(
        StartCheckout, infra.uow, issuer, stars_issuer, coupon_prices, clock=infra.clock
    )
    donate = providers.Singleton(StartDonation, infra.uow, issuer)
    join_requests = providers.Singleton(HandleJoinRequest, infra.uow, infra.clock)
    status = providers.Singleton(SubscriberStatus, infra.uow, infra.clock, infra.keyring)
    resend_access = providers.Singleton(ResendAccess, infra.uow, infra.clock)
    grant_access = providers.Singleton(GrantAccess, infra.uow, infra.clock, infra.chat_access)
    refresh_link = providers.Singleton(RefreshLink, infra.uow, infra.clock, infra.chat_access)
    settle_outbox = providers.Singleton(
        SettleOutbox,
        infra.uow,
        infra.clock,
        infra.messenger,
        infra.chat_access,
        grant_access,
        refresh_link,
        infra.alerts,
        retry_policy,
    )
    dispatch = providers.Singleton(
        OutboxDispatcher,
        settle_outbox,
        infra.clock,
        dispatch_settings,
        infra.metrics.provided.message_settled,  # observability (issue 18)
    )
    expire = providers.Singleton(
        ExpireSubscriptions,
        infra.uow,
        infra.clock,
        infra.keyring,
        expiry_settings,
    )
    plan_broadcasts = providers.Singleton(
        PlanBroadcasts,
        infra.uow,
        infra.clock,
        infra.keyring,
        providers.Callable(BroadcastSettings, infra.bot_username),
    )
    record_post = providers.Singleton(RecordPost, infra.uow, infra.clock)
    publish = providers.Singleton(
        PublishPosts, infra.uow, infra.clock, plan_broadcasts, record_post, sales, infra.messenger
    )
    reconcile = providers.Singleton(
        Reconcile,
        infra.uow,
        infra.clock,
        providers.Callable(_by_provider, infra.gateway, infra.stars_gateway),
        verify_payment,
    )
    # --- dashboard (issue 20)
    dashboard = providers.Singleton(
        OwnerDashboard,
        infra.uow,
        infra.clock,
        infra.channel_figures,
        sales,
        resume_sales,
        providers.Callable(_operators, config),
    )
    dashboard_payments = providers.Singleton(
        DashboardPayments,
        infra.uow,
        infra.clock,
        infra.keyring,
        dashboard,
        infra.payment_lookup,
        fulfilment,
        policy,
    )
    dashboard_exports = providers.Singleton(DashboardExports, dashboard, infra.export_pages)
    dashboard_alerts = providers.Singleton(DashboardAlerts, dashboard, infra.alert_log)
    subscriber_search = providers.Singleton(
        SubscriberSearch, infra.uow, dashboard, infra.subscriber_directory, infra.person_names
    )
    subscriber_actions = providers.Singleton(
        SubscriberActions,
        infra.uow,
        infra.clock,
        infra.ids,
        infra.keyring,
        dashboard,
        fulfilment_settings,
    )
    # --- end dashboard
    # --- the HTTP API (issue 20)
    api_tokens = providers.Singleton(
        ApiTokens, infra.api_token_store, infra.uow, infra.clock, infra.ids, dashboard
    )
    # --- end the HTTP API
