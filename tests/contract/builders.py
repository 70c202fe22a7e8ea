"""Small builders for the contract suites: valid entities with every field filled, so
a round trip through a backend checks every column, and helpers to run one step in a
committed unit of work.

Ids are lowercase letters and digits of one length, so that Python's string order and
a database collation's agree when a test checks ordering by id.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from core.domain.channel import Channel, DonationBounds, OfferPost, PayoutWallet
from core.domain.donation import Donation
from core.domain.grant import AccessGrant, GrantMode
from core.domain.ids import (
    ChannelId,
    ChatId,
    DonationId,
    GrantId,
    IntentId,
    MessageId,
    SubscriptionId,
    UserId,
)
from core.domain.intent_state import IntentStatus
from core.domain.messages import Verbatim, VerbatimButton
from core.domain.money import Money
from core.domain.outbox import SendMessage
from core.domain.payment import EventOutcome, PaymentEvent, PaymentIntent, Purpose
from core.domain.subscription import Subscription, SubscriptionStatus
from core.domain.tier import Tier
from core.ports.errors import Conflict
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

T0 = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
"""With microseconds, so a backend that truncates them shows."""

OWNER = UserId(4_200_000_001)
USER = UserId(7_000_000_001)
OTHER_USER = UserId(7_000_000_002)

PRECISE_CRYPTO = Money(Decimal("0.123456789012345678"), "ETH")
"""More digits than a float holds: a backend storing floats loses them."""

_counter = itertools.count(1)


def at(**delta: float) -> datetime:
    """``T0`` moved by ``timedelta(**delta)``."""
    return T0 + timedelta(**delta)


def fresh(prefix: str) -> str:
    return f"{prefix}{next(_counter):06d}"


def fresh_chat() -> ChatId:
    return ChatId(-1_001_000_000_000 - next(_counter))


def fresh_user() -> UserId:
    """A user of no other row: batches of subscriptions need one per item."""
    return UserId(7_500_000_000 + next(_counter))


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def make_channel(
    *,
    channel_id: str | None = None,
    owner_id: UserId = OWNER,
    open_chat: ChatId | None = None,
    closed_chat: ChatId | None = None,
    created_at: datetime = T0,
) -> Channel:
    return Channel(
        id=ChannelId(channel_id or fresh("ch")),
        owner_id=owner_id,
        open_chat_id=open_chat if open_chat is not None else fresh_chat(),
        closed_chat_id=closed_chat if closed_chat is not None else fresh_chat(),
        title="Café ☕ — «insider» notes",
        created_at=created_at,
        tiers=(
            Tier(1, usd("10.50"), 30),
            Tier(2, usd("27.00"), 90),
            Tier(3, usd("99.99"), 365),
        ),
        donation_bounds=DonationBounds(usd("1.00"), usd("500.00")),
        payout_wallet=PayoutWallet("0x52908400098527886E0F7030069857D2E4169EE7", "USDTERC20"),
        tiers_version=3,
        offer_post=OfferPost(MessageId(101), at(minutes=5), 3),
        donate_post=OfferPost(MessageId(7), at(minutes=6), 3),
    )


def make_intent(
    channel: Channel,
    *,
    intent_id: str | None = None,
    user_id: UserId = USER,
    purpose: Purpose = Purpose.SUBSCRIPTION,
    tier: int | None = 1,
    status: IntentStatus = IntentStatus.WAITING,
    created_at: datetime = T0,
) -> PaymentIntent:
    return PaymentIntent(
        id=IntentId(intent_id or fresh("in")),
        purpose=purpose,
        user_id=user_id,
        channel_id=channel.id,
        price=usd("10.50"),
        provider="fakepay",
        created_at=created_at,
        updated_at=created_at + timedelta(seconds=1),
        tier=tier if purpose is Purpose.SUBSCRIPTION else None,
        status=status,
        invoice_id="inv-4517",
        invoice_url="https://pay.example.test/invoice/inv-4517",
        payment_id="5077125051",
        actually_paid=PRECISE_CRYPTO,
    )


def make_event(
    intent: PaymentIntent | None,
    *,
    payment_id: str = "5077125051",
    status: IntentStatus = IntentStatus.CONFIRMING,
    received_at: datetime = T0,
    outcome: EventOutcome = EventOutcome.APPLIED,
) -> PaymentEvent:
    """A notification as received; ``intent=None`` is one for no order of ours."""
    return PaymentEvent(
        provider="fakepay",
        payment_id=payment_id,
        status=status,
        order_id=f"{'nobody' if intent is None else intent.id}_AAAAAAAAAAAAAAAAAAAAAA",
        intent_id=None if intent is None else intent.id,
        received_at=received_at,
        outcome=outcome,
        price=usd("10.50"),
        actually_paid=PRECISE_CRYPTO,
        parent_payment_id="5077120000",
    )


def make_subscription(
    channel: Channel,
    *,
    subscription_id: str | None = None,
    user_id: UserId = USER,
    expires_at: datetime | None = None,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
) -> Subscription:
    return Subscription(
        id=SubscriptionId(subscription_id or fresh("su")),
        user_id=user_id,
        channel_id=channel.id,
        tier=2,
        starts_at=T0,
        expires_at=expires_at if expires_at is not None else at(days=30),
        status=status,
        period=3,
        reminders_sent=frozenset({72, 24}),
    )


def make_grant(
    subscription: Subscription, *, period: int = 1, grant_id: str | None = None
) -> AccessGrant:
    return AccessGrant(
        id=GrantId(grant_id or fresh("gr")),
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        channel_id=subscription.channel_id,
        period=period,
        mode=GrantMode.JOIN_REQUEST,
        created_at=at(seconds=period),
    )


def make_donation(
    intent: PaymentIntent,
    *,
    donation_id: str | None = None,
    amount: Money | None = None,
    received_at: datetime = T0,
) -> Donation:
    return Donation(
        id=DonationId(donation_id or fresh("do")),
        intent_id=intent.id,
        user_id=intent.user_id,
        channel_id=intent.channel_id,
        amount=amount if amount is not None else usd("12.50"),
        received_at=received_at,
    )


def make_message(text: str = "Your link: tap below ✅") -> SendMessage:
    return SendMessage(
        ChatId(USER),
        Verbatim(
            text,
            (
                (VerbatimButton("Join", url="https://t.me/+abc"),),
                (
                    VerbatimButton("Renew", callback_data="renew:2"),
                    VerbatimButton("Help", url="https://example.test/help"),
                ),
            ),
        ),
    )


async def commit_with(
    uow_factory: UnitOfWorkFactory, step: Callable[[UnitOfWork], Awaitable[T]]
) -> T:
    """Run ``step`` in a new unit of work and commit it."""
    async with uow_factory() as uow:
        result = await step(uow)
        await uow.commit()
    return result


def saving(changes: PaymentChanges) -> Callable[[UnitOfWork], Awaitable[None]]:
    """A step that saves ``changes`` through the payment ledger (at ``T0``): how
    subscriptions, grants, donations and payment events come to be stored."""

    async def save(uow: UnitOfWork) -> None:
        await uow.payments.save(changes, T0)

    return save


async def saved(uow_factory: UnitOfWorkFactory, changes: PaymentChanges) -> bool:
    """Whether ``changes`` were saved and committed (False: Conflict, nothing stored)."""
    try:
        await commit_with(uow_factory, saving(changes))
    except Conflict:
        return False
    return True


async def saves_racing(
    uow_factory: UnitOfWorkFactory,
    first: Callable[[UnitOfWork], Awaitable[PaymentChanges]],
    second: Callable[[], PaymentChanges],
    hold: float = 0.05,
) -> list[bool]:
    """Two units of work save payment changes at once: ``first``'s (built in its unit
    of work) is saved and held open for ``hold`` seconds while ``second``'s is saved
    and committed. One store makes the second wait for the first and refuses it,
    another writes the second first and refuses the first's commit; which of the two
    were kept (the loser got Conflict)."""
    first_saved = asyncio.Event()

    async def held_open() -> bool:
        try:
            async with uow_factory() as uow:
                await uow.payments.save(await first(uow), at())
                first_saved.set()
                await asyncio.sleep(hold)
                await uow.commit()
        except Conflict:
            return False
        return True

    async def meanwhile() -> bool:
        await first_saved.wait()
        return await saved(uow_factory, second())

    return list(await asyncio.gather(held_open(), meanwhile()))


async def read(uow_factory: UnitOfWorkFactory, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``step`` in a new unit of work that commits nothing (what others now see)."""
    async with uow_factory() as uow:
        return await step(uow)


async def given_channel(uow_factory: UnitOfWorkFactory, *, owner_id: UserId = OWNER) -> Channel:
    """A committed channel (most rows refer to one, and a backend may enforce it)."""
    channel = make_channel(owner_id=owner_id)
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    return channel


async def given_intents(
    uow_factory: UnitOfWorkFactory,
    channel: Channel,
    count: int,
    *,
    status: IntentStatus = IntentStatus.WAITING,
) -> list[PaymentIntent]:
    """``count`` committed donation intents of ``channel`` (donations: open ones of one
    user may coexist), ids in creation order."""
    intents = [make_intent(channel, purpose=Purpose.DONATION, status=status) for _ in range(count)]

    async def add_all(uow: UnitOfWork) -> None:
        for intent in intents:
            await uow.intents.add(intent)

    await commit_with(uow_factory, add_all)
    return intents


async def given_subscriptions(
    uow_factory: UnitOfWorkFactory, channel: Channel, count: int
) -> list[Subscription]:
    """``count`` committed subscriptions to ``channel``, each of a user of its own."""
    subscriptions = [make_subscription(channel, user_id=fresh_user()) for _ in range(count)]

    await commit_with(uow_factory, saving(PaymentChanges(new_subscriptions=subscriptions)))
    return subscriptions
