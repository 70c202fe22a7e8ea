"""The core wired for the HTTP edge's tests: a registered channel selling tiers, the
real NowPayments gateway verifying notifications, and IPN bodies signed exactly as
the NowPayments emulator signs them.

The invoices are made by an in-memory gateway under the provider's name (no network
is needed for that); verification uses :class:`NowPaymentsGateway` itself, which
needs no network either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import attrs
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.inbound.http import (
    BucketSize,
    HttpDeps,
    HttpSettings,
    RouteClass,
    TelegramWebhook,
    rate_rules,
)
from adapters.outbound.memory import (
    FrozenClock,
    InMemoryAlertSink,
    InMemoryChatAccess,
    InMemoryMessenger,
    InMemoryNonceStore,
    InMemoryPaymentGateway,
    InMemoryRateLimiter,
)
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from composition.assembly import assembled
from core.domain.channel import Channel
from core.domain.ids import ChatId, IntentId, UserId
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.outbox import IssueInvite
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.domain.signing import MacKeyring
from core.domain.subscription import Subscription
from core.domain.tier import Tier
from core.ports.repositories import UnitOfWorkFactory
from core.ports.security import NonceStore, RateLimiter, Secret
from core.services.channel_settings import SetTiers
from core.services.checkout import StartCheckout
from core.services.invoicing import IssuedInvoice
from core.services.publish_posts import PublishPosts
from core.services.register_channel import RegisterChannel
from core.services.verify_payment import VerifyPaymentIntent
from sandbox.nowpayments.js_form import sign

Client = TestClient[web.Request, web.Application]

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IPN_SECRET = "http-test-ipn-secret-5f1c"
WRONG_SECRET = "not-the-ipn-secret-000"
KEYRING = MacKeyring((b"http-test-mac-key-0123456789abcdef0",))
OWNER = UserId(1000)
OPEN, CLOSED = ChatId(-1001), ChatId(-1002)
PRICE = Decimal("10")
ASKED = Decimal("0.004")
UNLIMITED = BucketSize(1_000_000, 1_000_000.0)


@attrs.define
class Shop:
    uow: UnitOfWorkFactory
    clock: FrozenClock
    alerts: InMemoryAlertSink
    verify: VerifyPaymentIntent
    checkout: StartCheckout
    register: RegisterChannel
    set_tiers: SetTiers
    chat: InMemoryChatAccess
    publish: PublishPosts
    """The bot's offers and their ``/repost``, into ``messenger``."""
    messenger: InMemoryMessenger
    channel: Channel | None = None
    _payments: int = 5_000_000_000

    async def open_channel(self) -> Channel:
        for chat, rights in ((OPEN, BOT_RIGHTS_OPEN), (CLOSED, BOT_RIGHTS_CLOSED)):
            self.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, rights))
            self.chat.set_member(chat, OWNER, ChatRights(MemberStatus.CREATOR))
        channel = await self.register.execute(OWNER, OPEN, CLOSED, "Alpha Signals")
        self.channel = await self.set_tiers.execute(
            OWNER, channel.id, (Tier(1, Money.of(PRICE, "USD"), 30),)
        )
        return self.channel

    async def order(self, user: UserId) -> IssuedInvoice:
        if self.channel is None:
            await self.open_channel()
        assert self.channel is not None
        return await self.checkout.execute(user, self.channel.id, 1)

    def payload(
        self,
        intent: IntentId | IssuedInvoice,
        status: str,
        *,
        payment_id: int | None = None,
        paid: Decimal | None = None,
        order_id: str | None = None,
    ) -> dict[str, object]:
        """A payment as NowPayments describes it in an IPN (its own key order)."""
        intent_id = intent.intent_id if isinstance(intent, IssuedInvoice) else intent
        if payment_id is None:
            self._payments += 1
            payment_id = self._payments
        actually_paid = (Decimal(0) if status == "waiting" else ASKED) if paid is None else paid
        return {
            "payment_id": payment_id,
            "parent_payment_id": None,
            "invoice_id": 4522625843,
            "payment_status": status,
            "pay_address": "bc1qexampleaddressexampleaddressexample",
            "payin_extra_id": None,
            "price_amount": PRICE,
            "price_currency": "usd",
            "pay_amount": ASKED,
            "actually_paid": actually_paid,
            "actually_paid_at_fiat": Decimal(0),
            "pay_currency": "btc",
            "order_id": order_id or str(OrderId.issue(intent_id, KEYRING)),
            "order_description": "Alpha Signals, tier 1, 30 days",
            "purchase_id": "6084744717",
            "outcome_amount": actually_paid,
            "outcome_currency": "btc",
            "payment_extra_ids": None,
            "fee": {
                "currency": "btc",
                "depositFee": 0,
                "withdrawalFee": 0,
                "serviceFee": Decimal(0),
            },
            "updated_at": 1772366400000,
        }

    # -- what the store keeps ---------------------------------------------------
    async def subscriptions(self, user: UserId) -> list[Subscription]:
        async with self.uow() as tx:
            return list(await tx.subscriptions.for_user(user))

    async def invites(self) -> list[IssueInvite]:
        async with self.uow() as tx:
            far = self.clock.now() + timedelta(days=3650)
            messages = await tx.outbox.claim(far, 10_000, far + timedelta(days=1))
        return [m.effect for m in messages if isinstance(m.effect, IssueInvite)]

    async def event_count(self, intent: IssuedInvoice) -> int:
        async with self.uow() as tx:
            return len(await tx.events.for_intent(intent.intent_id))


def signed(payload: Mapping[str, object], secret: str = IPN_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers NowPayments would post (signed as the emulator signs)."""
    body, signature = sign(payload, secret)
    return body, {"Content-Type": "application/json", "x-nowpayments-sig": signature}


def build_shop(uow: UnitOfWorkFactory) -> Shop:
    """The use cases as the production containers wire them, over ``uow`` and
    in-memory adapters (composition.assembly.assembled)."""
    clock = FrozenClock(START)
    alerts = InMemoryAlertSink()
    chat = InMemoryChatAccess()
    messenger = InMemoryMessenger()
    uc = assembled(
        clock=clock,
        uow=uow,
        keyring=KEYRING,
        gateway=InMemoryPaymentGateway(secret="unused", name="nowpayments"),
        chat=chat,
        messenger=messenger,
        alerts=alerts,
        ids=SequentialIdGenerator(),
    )
    return Shop(
        uow=uow,
        clock=clock,
        alerts=alerts,
        verify=uc.verify_payment(),
        checkout=uc.checkout(),
        register=uc.register_channel(),
        set_tiers=uc.set_tiers(),
        chat=chat,
        publish=uc.publish(),
        messenger=messenger,
    )


@asynccontextmanager
async def nowpayments_gateway() -> AsyncIterator[NowPaymentsGateway]:
    """The real gateway with the test IPN secret (its HTTP session is never used)."""
    async with aiohttp.ClientSession() as session:
        yield NowPaymentsGateway(
            session,
            NowPaymentsSettings(
                api_key=Secret("unused-api-key"),
                ipn_secret=Secret(IPN_SECRET),
                ipn_callback_url="http://127.0.0.1/webhooks/nowpayments",
            ),
            base_url="http://127.0.0.1:9",
        )


def make_deps(
    shop: Shop,
    gateway: NowPaymentsGateway,
    *,
    settings: HttpSettings | None = None,
    telegram: TelegramWebhook | None = None,
    bucket: BucketSize = UNLIMITED,
    nonces: NonceStore | None = None,
) -> HttpDeps:
    """Deps over ``shop`` with per-process limiters whose clock only moves when a test
    moves it (so buckets refill only when told)."""

    def local(capacity: int, per_second: float) -> RateLimiter:
        return InMemoryRateLimiter(shop.clock, capacity, per_second)

    return HttpDeps(
        clock=shop.clock,
        alerts=shop.alerts,
        nonces=nonces or InMemoryNonceStore(shop.clock),
        verify_payment=shop.verify,
        gateways={"nowpayments": gateway},
        rate_limits=rate_rules(local, buckets=dict.fromkeys(RouteClass, bucket)),
        settings=settings or HttpSettings(),
        telegram=telegram,
    )


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[Client]:
    """``app`` on a real socket on 127.0.0.1, and a client session for it."""
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client
