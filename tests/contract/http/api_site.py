"""The HTTP API over a real socket, for the API's tests: a shop with one channel of
OWNER's and one of OTHER_OWNER's, a payment of OWNER's channel that expired before
its money came (``late``), every group of operations under the app's middlewares,
and helpers that make API tokens and exchange them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import attrs

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
from adapters.inbound.http.app import BucketSize, build_app
from adapters.outbound.memory.alert_log import InMemoryAlertLog
from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.payment_lookup import InMemoryExportPages, InMemoryPaymentLookup
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.subscriber_directory import (
    InMemoryPersonNames,
    InMemorySubscriberDirectory,
)
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import EventOutcome, PaymentIntent
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.domain.stars_link import StarsLink, stars_link_price
from core.domain.tier import STARS, Tier
from core.domain.trial import TrialOffer
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from core.services.api_tokens import ApiTokens
from core.services.channel_settings import ChangeSales
from core.services.coupons import OwnerCoupons
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.dashboard_alerts import DashboardAlerts
from core.services.dashboard_exports import PAGE_SIZE, DashboardExports
from core.services.dashboard_payments import DashboardPayments
from core.services.dashboard_repost import RepostOffer
from core.services.dashboard_subscriber_actions import SubscriberActions
from core.services.dashboard_subscribers import SubscriberSearch
from core.services.fulfilment import Fulfilment
from core.services.resume_sales import ResumeSales
from tests.contract.builders import commit_with, make_event, make_intent, saving
from tests.contract.http.shop import (
    KEYRING,
    OWNER,
    UNLIMITED,
    Client,
    Shop,
    build_shop,
    make_deps,
    nowpayments_gateway,
    serve,
)

OTHER_OWNER = UserId(2000)
OPERATOR = UserId(9999)
STRANGER = UserId(4242)
PAYER = UserId(5001)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)
BUNDLED_OPEN, BUNDLED_CLOSED = ChatId(-3001), ChatId(-3002)
SIGNING_KEY = b"api-test-signing-key-0123456789abcdef"
OLD_KEY = b"api-test-signing-key-the-old-one-0000"


@attrs.define
class ApiSite:
    client: Client
    shop: Shop
    tokens: ApiTokens
    keys: ApiSigningKeys
    access: AccessTokens
    api: Api
    channel_id: str
    other_channel_id: str
    late: PaymentIntent
    """OWNER's channel's subscription payment that expired, then money came (``late-1``)."""
    alert_log: InMemoryAlertLog
    names: InMemoryPersonNames
    coupons: OwnerCoupons

    async def api_token(self, user: UserId = OWNER, scope: str = "write") -> str:
        viewer = Viewer(user, operator=user == OPERATOR)
        return (await self.tokens.create(viewer, f"test {scope}", scope)).secret

    async def exchange(self, api_token: str) -> str:
        answer = await self.client.post(
            "/api/v1/token", headers={"Authorization": f"Bearer {api_token}"}
        )
        assert answer.status == 200, await answer.text()
        access = (await answer.json())["access_token"]
        assert isinstance(access, str)
        return access

    async def add_plans(self) -> str:
        """OWNER's channel sells a month renewed in Stars, a lifetime and a season,
        offers a 3-day trial at 2 USD and a Stars link at 250 Stars, and bundles a
        second channel of OWNER's (its id)."""
        for chat in (BUNDLED_OPEN, BUNDLED_CLOSED):
            self.shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
            self.shop.chat.set_member(chat, OWNER, ChatRights(MemberStatus.CREATOR))
        second = await self.shop.register.execute(
            OWNER, BUNDLED_OPEN, BUNDLED_CLOSED, "Alpha Extra"
        )
        async with self.shop.uow() as tx:
            channel = await tx.channels.get(ChannelId(self.channel_id))
            channel.tiers = (
                Tier(1, Money.of("10", "USD"), 30, Money.of("500", STARS), stars_renews=True),
                Tier.lifetime(2, Money.of("99.50", "USD")),
                Tier.season(3, Money.of("40", "USD"), date(2027, 3, 31)),
            )
            channel.trial = TrialOffer(3, Money.of("2", "USD"))
            channel.set_stars_link(StarsLink("https://t.me/+stars0001", stars_link_price(250)))
            await tx.channels.update(channel)
            await tx.bundles.add(channel.id, second.id, self.shop.clock.now())
            await tx.commit()
        return second.id

    async def bearer(self, user: UserId = OWNER, scope: str = "write") -> dict[str, str]:
        access = await self.exchange(await self.api_token(user, scope))
        return {"Authorization": f"Bearer {access}"}


async def _late_payment(uow: UnitOfWorkFactory, channel: Channel) -> PaymentIntent:
    intent = attrs.evolve(
        make_intent(channel, status=IntentStatus.EXPIRED), duration_days=30, payment_id=None
    )
    await commit_with(uow, lambda tx: tx.intents.add(intent))
    late = attrs.evolve(
        make_event(intent, payment_id="late-1", status=IntentStatus.FINISHED),
        outcome=EventOutcome.STALE,
        parent_payment_id=None,
    )
    await commit_with(uow, saving(PaymentChanges(events=[late])))
    return intent


@asynccontextmanager
async def api_site(
    bucket: BucketSize = UNLIMITED,
    export_page: int = PAGE_SIZE,
    ip_bucket: BucketSize = UNLIMITED,
) -> AsyncIterator[ApiSite]:
    """``bucket``: each API token's; ``ip_bucket``: the app's per address and class."""
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    shop = build_shop(uow)
    channel = await shop.open_channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        shop.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        shop.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    other = await shop.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    sales = ChangeSales(uow, shop.clock)
    dashboard = OwnerDashboard(
        uow,
        shop.clock,
        InMemoryChannelFigures(store),
        sales,
        ResumeSales(uow, shop.chat, sales),
        frozenset({OPERATOR}),
    )
    tokens = ApiTokens(InMemoryApiTokenStore(), uow, shop.clock, RandomIdGenerator(), dashboard)
    keys = ApiSigningKeys((SIGNING_KEY,))
    access = AccessTokens(keys, shop.clock)
    late = await _late_payment(uow, channel)
    names, alert_log, ids = InMemoryPersonNames(), InMemoryAlertLog(), RandomIdGenerator()
    payments = DashboardPayments(
        uow, shop.clock, KEYRING, dashboard, InMemoryPaymentLookup(store), Fulfilment(ids)
    )
    coupons = OwnerCoupons(uow, shop.clock, ids)
    api = Api(
        tokens,
        access,
        InMemoryRateLimiter(shop.clock, bucket.capacity, bucket.per_second),
        [
            ChannelOperations(dashboard, RepostOffer(uow, shop.clock, dashboard, shop.publish)),
            SubscriberOperations(
                SubscriberSearch(uow, dashboard, InMemorySubscriberDirectory(store, names), names),
                SubscriberActions(uow, shop.clock, ids, KEYRING, dashboard),
            ),
            PaymentOperations(payments),
            ExportOperations(DashboardExports(dashboard, InMemoryExportPages(store), export_page)),
            AlertOperations(DashboardAlerts(dashboard, alert_log)),
            CouponOperations(coupons),
        ],
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(shop, gateway, bucket=ip_bucket), extra_routes=api.routes())
        async with serve(build_app(deps)) as client:
            yield ApiSite(
                client,
                shop,
                tokens,
                keys,
                access,
                api,
                channel.id,
                other.id,
                late,
                alert_log,
                names,
                coupons,
            )
