"""The core wired to the in-memory adapters: the whole product minus the network.

Tests drive use cases through a World and assert on what the store keeps and what
the outbox queued — the things a user would eventually see.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from adapters.catalog.notices import render
from adapters.inbound.worker.outbox_dispatcher import DispatchSettings, OutboxDispatcher
from adapters.outbound.delegating_uow import DelegatingUnitOfWork
from adapters.outbound.memory.alert_sink import InMemoryAlertSink
from adapters.outbound.memory.chat_access import InMemoryChatAccess
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.memory.messenger import InMemoryMessenger
from adapters.outbound.memory.payment_gateway import InMemoryPaymentGateway
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.memory.wordings import InMemoryWordingBook
from composition.assembly import assembled
from core.domain.channel import Channel, DonationBounds
from core.domain.ids import ChannelId, ChatId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.outbox import Effect, OutboxMessage, SendMessage
from core.domain.payment import PaymentIntent, ProviderNotification
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.domain.signing import MacKeyring
from core.domain.tier import Tier
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.broadcasts import PlanBroadcasts, RecordPost
from core.services.bundles import ManageBundle
from core.services.channel_settings import ChangeSales, SetDonationBounds, SetPayoutWallet, SetTiers
from core.services.check_rights import CheckRights, RightsCheckSettings
from core.services.checkout import ResolveOffer, StartCheckout
from core.services.coupon_prices import CouponPrices
from core.services.coupons import OwnerCoupons
from core.services.donations import StartDonation
from core.services.expiry import ExpireSubscriptions, ExpirySettings
from core.services.fulfilment import FulfilmentSettings
from core.services.grant_access import GrantAccess
from core.services.invoicing import IssuedInvoice
from core.services.join_requests import HandleJoinRequest
from core.services.publish_posts import PublishPosts
from core.services.reconcile import Reconcile
from core.services.redeem_coupon import RedeemCoupon
from core.services.refresh_link import RefreshLink
from core.services.register_channel import RegisterChannel
from core.services.resume_sales import ResumeSales
from core.services.settle_outbox import RetryPolicy
from core.services.stars import AnswerPreCheckout, RecordStarsPayment, RefundStarsPayment
from core.services.stars_renewals import CancelStarsRenewal
from core.services.subscriber_status import ResendAccess, SubscriberStatus
from core.services.trials import SetTrial, TakeTrial
from core.services.verify_payment import PaymentPolicy, VerificationResult, VerifyPaymentIntent
from core.services.wordings import OwnWording

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWNER = UserId(1000)
OPEN = ChatId(-1001)
CLOSED = ChatId(-1002)
KEYRING = MacKeyring((b"test-mac-key-0123456789abcdef0123",))


def usd(amount: str | int) -> Money:
    return Money.of(amount, "USD")


TIERS = (Tier(1, usd(10), 30), Tier(2, usd(25), 90))


@attrs.define
class World:
    clock: FrozenClock
    uow: UnitOfWorkFactory
    gateway: InMemoryPaymentGateway
    chat: InMemoryChatAccess
    messenger: InMemoryMessenger
    alerts: InMemoryAlertSink
    wordings: InMemoryWordingBook
    own_wording: OwnWording
    register: RegisterChannel
    set_tiers: SetTiers
    set_trial: SetTrial
    take_trial: TakeTrial
    set_donations: SetDonationBounds
    set_wallet: SetPayoutWallet
    sales: ChangeSales
    bundles: ManageBundle
    resolve: ResolveOffer
    checkout: StartCheckout
    donate: StartDonation
    verify: VerifyPaymentIntent
    grant: GrantAccess
    refresh: RefreshLink
    join: HandleJoinRequest
    expire: ExpireSubscriptions
    plan: PlanBroadcasts
    record_post: RecordPost
    dispatch: OutboxDispatcher
    publish: PublishPosts
    reconcile: Reconcile
    check_rights: CheckRights
    resume_sales: ResumeSales
    status: SubscriberStatus
    resend: ResendAccess
    _payments: int = 0
    stars: InMemoryPaymentGateway | None = None
    """The Stars rail's provider, where the world sells for Stars too."""
    pre_checkout: AnswerPreCheckout | None = None
    stars_payment: RecordStarsPayment | None = None
    stars_refund: RefundStarsPayment | None = None
    cancel_renewal: CancelStarsRenewal | None = None
    coupons: OwnerCoupons | None = None
    redeem: RedeemCoupon | None = None
    coupon_prices: CouponPrices | None = None

    # -- set-up -------------------------------------------------------------
    def admin_chats(self) -> None:
        for chat, rights in ((OPEN, BOT_RIGHTS_OPEN), (CLOSED, BOT_RIGHTS_CLOSED)):
            self.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, rights))
            self.chat.set_member(chat, OWNER, ChatRights(MemberStatus.CREATOR))

    async def channel(self, tiers: tuple[Tier, ...] = TIERS, donations: bool = True) -> Channel:
        self.admin_chats()
        channel = await self.register.execute(OWNER, OPEN, CLOSED, "Alpha Signals")
        channel = await self.set_tiers.execute(OWNER, channel.id, tiers)
        if donations:
            channel = await self.set_donations.execute(
                OWNER, channel.id, DonationBounds(usd(1), usd(500))
            )
        return channel

    # -- the provider's side ------------------------------------------------
    def notification(
        self,
        invoice: IssuedInvoice | IntentId,
        status: IntentStatus,
        *,
        paid: Decimal | str | None = None,
        asked: Decimal | str = "0.004",
        price: Money | None = None,
        payment_id: str | None = None,
        parent: str | None = None,
        order_id: str | None = None,
        invoice_id: str | None = None,
    ) -> ProviderNotification:
        intent_id = invoice.intent_id if isinstance(invoice, IssuedInvoice) else invoice
        if payment_id is None:
            self._payments += 1
            payment_id = f"p{intent_id}"
        return ProviderNotification(
            provider=self.gateway.name,
            payment_id=payment_id,
            order_id=order_id or str(OrderId.issue(intent_id, KEYRING)),
            status=status,
            price=price or (invoice.price if isinstance(invoice, IssuedInvoice) else usd(10)),
            pay_amount=Money.of(asked, "BTC"),
            actually_paid=Money.of(paid if paid is not None else asked, "BTC"),
            parent_payment_id=parent,
            invoice_id=invoice_id,
        )

    async def pay(self, invoice: IssuedInvoice, **kw: Any) -> VerificationResult:
        """The usual happy sequence up to ``finished``."""
        result = None
        for status in (IntentStatus.WAITING, IntentStatus.CONFIRMING, IntentStatus.FINISHED):
            result = await self.verify.execute(self.notification(invoice, status, **kw))
        assert result is not None
        return result

    async def drain(self, runs: int = 10) -> None:
        """Dispatch until nothing is due: a chat takes a message a run, so the clock
        moves two seconds between runs."""
        for _ in range(runs):
            if not (await self.dispatch.run_once()).claimed:
                return
            self.clock.advance(timedelta(seconds=2))

    # -- looking at the store -----------------------------------------------
    async def queued(self) -> list[OutboxMessage]:
        """Every message due now or later, without claiming them (rolled back)."""
        async with self.uow() as tx:
            far = self.clock.now() + timedelta(days=3650)
            return list(await tx.outbox.claim(far, 10_000, far + timedelta(days=1)))

    async def effects(self) -> list[Effect]:
        return [m.effect for m in await self.queued()]

    async def keys(self) -> list[str]:
        return [m.key for m in await self.queued()]

    async def texts_to(self, chat: int) -> list[str]:
        texts: list[str] = []
        for effect in await self.effects():
            if isinstance(effect, SendMessage) and effect.chat_id == chat:
                texts.append(render(effect.message).text)
        return texts

    async def audit_actions(self) -> list[str]:
        async with self.uow() as tx:
            return [e.action for e in await tx.audit.all()]

    async def intent(self, intent_id: IntentId) -> PaymentIntent:
        async with self.uow() as tx:
            return await tx.intents.get(intent_id)

    async def channel_now(self, channel_id: ChannelId) -> Channel:
        async with self.uow() as tx:
            return await tx.channels.get(channel_id)


def build(
    policy: PaymentPolicy | None = None,
    expiry: ExpirySettings | None = None,
    fulfilment: FulfilmentSettings | None = None,
    uow: UnitOfWorkFactory | None = None,
    dispatch: DispatchSettings | None = None,
    retry: RetryPolicy | None = None,
    gateway: InMemoryPaymentGateway | None = None,
    rights_check: RightsCheckSettings | None = None,
    *,
    stars: bool = False,
) -> World:
    """The use cases as the production containers wire them, over in-memory adapters
    (or over ``uow``, e.g. SQLAlchemy, if given): every adapter and setting is an
    override, so a test runs the graph a process runs."""
    clock = FrozenClock(START)
    uow = uow or InMemoryUnitOfWorkFactory()
    gateway = gateway or InMemoryPaymentGateway(secret="test-ipn-secret")
    stars_gateway = (
        InMemoryPaymentGateway(
            secret="unused", name="telegram_stars", base_url="https://t.me", lists_payments=False
        )
        if stars
        else None
    )
    chat = InMemoryChatAccess()
    wordings = InMemoryWordingBook()
    messenger = InMemoryMessenger(wordings=wordings)
    alerts = InMemoryAlertSink()
    uc = assembled(
        wordings=wordings,
        clock=clock,
        uow=uow,
        keyring=KEYRING,
        gateway=gateway,
        chat=chat,
        messenger=messenger,
        alerts=alerts,
        ids=SequentialIdGenerator(),
        policy=policy,
        fulfilment=fulfilment,
        expiry=expiry,
        dispatch=dispatch,
        retry=retry,
        rights_check=rights_check,
        stars=stars_gateway,
    )
    return World(
        clock=clock,
        uow=uow,
        gateway=gateway,
        chat=chat,
        messenger=messenger,
        alerts=alerts,
        wordings=wordings,
        own_wording=uc.own_wording(),
        register=uc.register_channel(),
        set_tiers=uc.set_tiers(),
        set_trial=uc.set_trial(),
        take_trial=uc.take_trial(),
        set_donations=uc.set_donations(),
        set_wallet=uc.set_wallet(),
        sales=uc.sales(),
        bundles=uc.manage_bundle(),
        resolve=uc.resolve_offer(),
        checkout=uc.checkout(),
        donate=uc.donate(),
        verify=uc.verify_payment(),
        grant=uc.grant_access(),
        refresh=uc.refresh_link(),
        join=uc.join_requests(),
        expire=uc.expire(),
        plan=uc.plan_broadcasts(),
        record_post=uc.record_post(),
        dispatch=uc.dispatch(),
        publish=uc.publish(),
        reconcile=uc.reconcile(),
        check_rights=uc.check_rights(),
        resume_sales=uc.resume_sales(),
        status=uc.status(),
        resend=uc.resend_access(),
        stars=stars_gateway,
        pre_checkout=uc.pre_checkout(),
        stars_payment=uc.stars_payment(),
        stars_refund=uc.stars_refund(),
        cancel_renewal=uc.cancel_renewal(),
        coupons=uc.owner_coupons(),
        redeem=uc.redeem_coupon(),
        coupon_prices=uc.coupon_prices(),
    )


class CountingUnitOfWorkFactory:
    """Counts the units of work that committed; refuses the next commits with the
    errors in ``refusals`` (a store that says Conflict or Unavailable)."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self.inner = inner
        self.commits = 0
        self.refusals: list[Exception] = []
        self.gates: list[asyncio.Event] = []
        """The next commits wait for these (a slow disk), one each."""

    def __call__(self) -> UnitOfWork:
        return _CountingUnitOfWork(self.inner(), self)


class _CountingUnitOfWork(DelegatingUnitOfWork):
    def __init__(self, inner: UnitOfWork, factory: CountingUnitOfWorkFactory) -> None:
        super().__init__(inner)
        self._factory = factory

    async def commit(self) -> None:
        if self._factory.refusals:
            raise self._factory.refusals.pop(0)
        if self._factory.gates:
            await self._factory.gates.pop(0).wait()
        await super().commit()
        self._factory.commits += 1


def counted() -> tuple[World, CountingUnitOfWorkFactory]:
    """A world over the in-memory store whose commits are counted."""
    counting = CountingUnitOfWorkFactory(InMemoryUnitOfWorkFactory())
    return build(uow=counting), counting


def dump(values: Sequence[object]) -> str:
    return json.dumps([str(v) for v in values])
