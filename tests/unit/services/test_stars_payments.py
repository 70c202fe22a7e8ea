"""Paying in Telegram Stars: the pre-checkout answer, the successful payment through
the verify-payment path, and refunds asked from the bot."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.errors import NotAuthorized
from core.domain.ids import ChannelId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.order_id import OrderId
from core.domain.outbox import IssueInvite, RemoveMember
from core.domain.payment import EventOutcome
from core.domain.subscription import Subscription
from core.domain.tier import Rail
from core.ports.payments import ProviderRejected
from core.services.invoicing import IssuedInvoice
from core.services.stars import (
    AnswerPreCheckout,
    RecordStarsPayment,
    RefundStarsPayment,
    Refusal,
    StarsCheckout,
    StarsPayment,
)
from tests.unit.services.test_stars_checkout import STARS_TIERS
from tests.unit.services.world import KEYRING, OWNER, World, build

USER = UserId(42)
STRANGER = UserId(77)


@pytest.fixture
def world() -> World:
    return build(stars=True)


def _pre_checkout(world: World) -> AnswerPreCheckout:
    assert world.pre_checkout is not None
    return world.pre_checkout


def _record(world: World) -> RecordStarsPayment:
    assert world.stars_payment is not None
    return world.stars_payment


def _refund(world: World) -> RefundStarsPayment:
    assert world.stars_refund is not None
    return world.stars_refund


async def _stars_invoice(world: World) -> tuple[ChannelId, IssuedInvoice, str]:
    channel = await world.channel(STARS_TIERS)
    invoice = await world.checkout.execute(USER, channel.id, 1, Rail.STARS)
    return channel.id, invoice, str(OrderId.issue(invoice.intent_id, KEYRING))


def _paid(order_id: str, charge: str = "stxCharge1", amount: int = 500) -> StarsPayment:
    return StarsPayment(USER, charge, order_id, amount, "XTR")


async def _subscription(world: World, channel_id: ChannelId) -> Subscription | None:
    async with world.uow() as tx:
        return await tx.subscriptions.find(USER, channel_id)


async def test_the_pre_checkout_of_an_open_stars_intent_at_its_price_is_accepted(
    world: World,
) -> None:
    _, _, order = await _stars_invoice(world)

    assert await _pre_checkout(world).execute(StarsCheckout(USER, order, 500, "XTR")) is None


@pytest.mark.parametrize(
    ("amount", "currency", "payer", "refusal"),
    [
        (499, "XTR", USER, Refusal.CHANGED),
        (500, "USD", USER, Refusal.CHANGED),
        (500, "XTR", STRANGER, Refusal.SOMEONE_ELSE),
    ],
)
async def test_a_pre_checkout_that_is_not_what_was_stored_is_refused(
    world: World, amount: int, currency: str, payer: UserId, refusal: Refusal
) -> None:
    _, _, order = await _stars_invoice(world)

    answer = await _pre_checkout(world).execute(StarsCheckout(payer, order, amount, currency))

    assert answer is refusal


async def test_a_pre_checkout_for_no_order_of_ours_is_refused(world: World) -> None:
    _, _, order = await _stars_invoice(world)
    forged = order[:-1] + ("A" if order[-1] != "A" else "B")

    answer = await _pre_checkout(world).execute(StarsCheckout(USER, forged, 500, "XTR"))

    assert answer is Refusal.UNKNOWN


async def test_a_pre_checkout_for_a_crypto_intent_is_refused(world: World) -> None:
    channel = await world.channel(STARS_TIERS)
    crypto = await world.checkout.execute(USER, channel.id, 1)
    order = str(OrderId.issue(crypto.intent_id, KEYRING))

    answer = await _pre_checkout(world).execute(StarsCheckout(USER, order, 10, "XTR"))

    assert answer is Refusal.UNKNOWN


async def test_a_pre_checkout_of_an_invoice_paid_already_is_refused(world: World) -> None:
    _, _, order = await _stars_invoice(world)
    await _record(world).execute(_paid(order))

    answer = await _pre_checkout(world).execute(StarsCheckout(USER, order, 500, "XTR"))

    assert answer is Refusal.CLOSED


async def test_a_successful_payment_grants_once_through_the_payment_path(world: World) -> None:
    channel_id, invoice, order = await _stars_invoice(world)

    first = await _record(world).execute(_paid(order))
    again = await _record(world).execute(_paid(order))

    assert (first.outcome, first.status) == (EventOutcome.GRANTED, IntentStatus.FINISHED)
    assert again.outcome is EventOutcome.DUPLICATE
    sub = await _subscription(world, channel_id)
    assert sub is not None and sub.expires_at == world.clock.now() + timedelta(days=30)
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 1
    assert "payment.granted" in await world.audit_actions()
    assert (await world.intent(invoice.intent_id)).payment_id == "stxCharge1"


async def test_a_successful_payment_of_another_amount_grants_nothing(world: World) -> None:
    channel_id, _, order = await _stars_invoice(world)

    result = await _record(world).execute(_paid(order, amount=5))

    assert result.outcome is EventOutcome.MISMATCH
    assert await _subscription(world, channel_id) is None


async def test_the_owner_refunds_a_stars_payment_and_the_access_is_taken_back(
    world: World,
) -> None:
    channel_id, _, order = await _stars_invoice(world)
    await _record(world).execute(_paid(order))
    assert world.stars is not None

    intent = await _refund(world).execute(OWNER, "stxCharge1", "asked by the subscriber")

    assert intent.status is IntentStatus.REFUNDED
    assert world.stars.refunds == [(USER, "stxCharge1")]
    sub = await _subscription(world, channel_id)
    assert sub is not None and not sub.is_active_at(world.clock.now())
    assert any(isinstance(e, RemoveMember) for e in await world.effects())
    actions = await world.audit_actions()
    assert "payment.refund_requested" in actions
    assert "subscription.refunded" in actions


async def test_an_operator_may_refund_any_channels_stars_payment(world: World) -> None:
    _, _, order = await _stars_invoice(world)
    await _record(world).execute(_paid(order))

    intent = await _refund(world).execute(STRANGER, "stxCharge1", "fraud", operator=True)

    assert intent.status is IntentStatus.REFUNDED


async def test_someone_else_cannot_refund_and_nothing_is_refunded(world: World) -> None:
    _, _, order = await _stars_invoice(world)
    await _record(world).execute(_paid(order))
    assert world.stars is not None

    with pytest.raises(NotAuthorized):
        await _refund(world).execute(STRANGER, "stxCharge1", "I want it")

    assert world.stars.refunds == []


async def test_a_refund_refused_by_telegram_changes_nothing(world: World) -> None:
    _, invoice, order = await _stars_invoice(world)
    await _record(world).execute(_paid(order))
    assert world.stars is not None
    world.stars.fail_next(ProviderRejected("CHARGE_ALREADY_REFUNDED"))

    with pytest.raises(ProviderRejected):
        await _refund(world).execute(OWNER, "stxCharge1", "duplicate charge")

    assert (await world.intent(invoice.intent_id)).status is IntentStatus.FINISHED
    assert "payment.refund_requested" not in await world.audit_actions()


async def test_a_stars_invoice_nobody_paid_is_abandoned_after_a_week(world: World) -> None:
    _, invoice, order = await _stars_invoice(world)
    world.clock.advance(timedelta(days=7, minutes=1))

    report = await world.reconcile.run_once()
    late = await _pre_checkout(world).execute(StarsCheckout(USER, order, 500, "XTR"))

    assert (report.checked, report.abandoned) == (1, 1)
    assert (await world.intent(invoice.intent_id)).status is IntentStatus.EXPIRED
    assert late is Refusal.CLOSED
