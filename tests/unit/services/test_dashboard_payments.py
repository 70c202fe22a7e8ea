"""The dashboard's Payments use cases over the in-memory adapters: finding a payment
by any of its ids (only in the viewer's channels), and granting late money by hand
exactly once through the payment path's own fulfilment and ledger."""

from __future__ import annotations

import asyncio

import pytest

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.memory.alert_sink import InMemoryAlertSink
from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.memory.payment_lookup import InMemoryPaymentLookup
from adapters.outbound.memory.store import InMemoryStore
from core.domain.errors import InvalidChannel
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.order_id import OrderId
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome
from core.ports.payment_lookup import PaymentLookup
from core.services.channel_settings import ChangeSales
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.dashboard_payments import DashboardPayments, NotGrantable, UnknownPayment
from core.services.fulfilment import Fulfilment
from core.services.invoicing import IssuedInvoice
from core.services.payment_judging import VerificationResult, alert_for
from core.services.resume_sales import ResumeSales
from core.services.verify_payment import VerifyPaymentIntent
from tests.unit.services.world import KEYRING, OWNER, World, build

USER = UserId(42)
S = IntentStatus
OWNER_VIEW = Viewer(OWNER)
OPERATOR = Viewer(UserId(9999), operator=True)
STRANGER = Viewer(UserId(5555))


@pytest.fixture
def world() -> World:
    return build()


def payments(world: World, lookup: PaymentLookup | None = None) -> DashboardPayments:
    """The use case over ``world``'s store (in memory unless ``lookup`` reads another)."""
    if lookup is None:
        assert isinstance(world.uow, InMemoryUnitOfWorkFactory)
        lookup = InMemoryPaymentLookup(world.uow.store)
    owners = OwnerDashboard(
        world.uow,
        world.clock,
        InMemoryChannelFigures(InMemoryStore()),  # the overview's figures: unused here
        world.sales,
        ResumeSales(world.uow, world.chat, ChangeSales(world.uow, world.clock)),
        frozenset({OPERATOR.user_id}),
    )
    return DashboardPayments(
        world.uow,
        world.clock,
        KEYRING,
        owners,
        lookup,
        Fulfilment(SequentialIdGenerator(prefix="m")),
    )


async def late_money(world: World) -> tuple[ChannelId, IssuedInvoice]:
    """A checkout that expired unpaid, then money for it (payment ``late-1``)."""
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, S.EXPIRED))
    late = await world.verify.execute(world.notification(invoice, S.FINISHED, payment_id="late-1"))
    assert late.late_money
    return channel.id, invoice


async def invites(world: World) -> list[IssueInvite]:
    return [e for e in await world.effects() if isinstance(e, IssueInvite)]


async def test_late_money_is_granted_by_hand_once_with_an_audited_reason(world: World) -> None:
    channel_id, invoice = await late_money(world)
    use = payments(world)
    view = await use.payment(OWNER_VIEW, invoice.intent_id)
    assert view.late is not None and view.late.payment_id == "late-1"
    assert await use.grant_by_hand(OWNER_VIEW, invoice.intent_id, "  paid 2 min late  ")
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(USER, channel_id)
        intent = await tx.intents.get(invoice.intent_id)
        audit = await tx.audit.all()
    assert sub is not None and sub.is_active_at(world.clock.now())
    assert intent.is_fulfilled and intent.payment_id == "late-1"
    assert intent.status is S.EXPIRED  # the record of what the provider said stays
    assert len(await invites(world)) == 1
    granted = [a for a in audit if a.action == "payment.granted_by_hand"]
    assert [(a.actor, a.details["reason"]) for a in granted] == [
        (f"user:{OWNER}", "paid 2 min late")
    ]
    after = await use.payment(OWNER_VIEW, invoice.intent_id)
    assert after.late is None
    assert after.record.subscription is not None


async def test_a_second_grant_grants_nothing_more(world: World) -> None:
    _channel_id, invoice = await late_money(world)
    use = payments(world)
    assert await use.grant_by_hand(OWNER_VIEW, invoice.intent_id, "late")
    assert not await use.grant_by_hand(OWNER_VIEW, invoice.intent_id, "late again")
    assert len(await invites(world)) == 1


async def test_two_grants_at_once_grant_once(world: World) -> None:
    _channel_id, invoice = await late_money(world)
    use = payments(world)
    done = await asyncio.gather(
        use.grant_by_hand(OWNER_VIEW, invoice.intent_id, "one"),
        use.grant_by_hand(OPERATOR, invoice.intent_id, "two"),
    )
    assert sorted(done) == [False, True]
    assert len(await invites(world)) == 1
    async with world.uow() as tx:
        audit = await tx.audit.all()
    assert len([a for a in audit if a.action == "payment.granted_by_hand"]) == 1


async def test_a_grant_needs_a_reason_and_late_money(world: World) -> None:
    channel_id, invoice = await late_money(world)
    use = payments(world)
    with pytest.raises(InvalidChannel, match="reason_missing"):
        await use.grant_by_hand(OWNER_VIEW, invoice.intent_id, "   ")
    fresh = await world.checkout.execute(USER, channel_id, 2)
    with pytest.raises(NotGrantable, match="no_late_money"):
        await use.grant_by_hand(OWNER_VIEW, fresh.intent_id, "why not")
    assert await invites(world) == []


async def test_someone_elses_payment_is_unknown_like_a_missing_one(world: World) -> None:
    _channel_id, invoice = await late_money(world)
    use = payments(world)
    for intent_id in (invoice.intent_id, IntentId("nosuchintent000000000000")):
        with pytest.raises(UnknownPayment, match="no_such_payment"):
            await use.payment(STRANGER, intent_id)
        with pytest.raises(UnknownPayment, match="no_such_payment"):
            await use.grant_by_hand(STRANGER, intent_id, "mine now")
    assert await use.search(STRANGER, invoice.intent_id) == []
    assert await invites(world) == []


async def test_a_payment_is_found_by_order_id_payment_id_or_invoice_id(world: World) -> None:
    _channel_id, invoice = await late_money(world)
    use = payments(world)
    async with world.uow() as tx:
        intent = await tx.intents.get(invoice.intent_id)
    assert intent.invoice_id is not None
    order = str(OrderId.issue(invoice.intent_id, KEYRING))
    for text in (order, invoice.intent_id, "late-1", intent.invoice_id):
        found = await use.search(OWNER_VIEW, f" {text} ")
        assert [r.intent.id for r in found] == [invoice.intent_id], text
        assert [r.intent.id for r in await use.search(OPERATOR, text)] == [invoice.intent_id]
    assert await use.search(OWNER_VIEW, "nothing-like-it") == []


async def test_the_payment_path_links_late_money_to_its_page_when_given_the_pages(
    world: World,
) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    sink = InMemoryAlertSink()
    pages = "https://pay.example/dashboard/payments/"
    verify = VerifyPaymentIntent(
        world.uow, world.clock, KEYRING, Fulfilment(SequentialIdGenerator()), sink, None, pages
    )
    await verify.execute(world.notification(invoice, S.EXPIRED))
    await verify.execute(world.notification(invoice, S.FINISHED, payment_id="late-2"))
    assert [a.details.get("review") for a in sink.alerts] == [pages + invoice.intent_id]


def test_late_moneys_alert_links_to_its_payment_page(world: World) -> None:
    n = world.notification(IntentId("a" * 24), S.FINISHED)
    result = VerificationResult(
        outcome=EventOutcome.STALE,
        intent_id=IntentId("a" * 24),
        late_money=True,
        channel_id=None,
    )
    pages = "https://pay.example/dashboard/payments/"
    alert = alert_for(n, result, pages)
    assert alert is not None
    assert alert.details["review"] == pages + "a" * 24
    assert "review" not in (alert_for(n, result) or alert).details


async def test_late_moneys_alert_names_its_channel_for_the_owners_alerts_page(
    world: World,
) -> None:
    channel_id, invoice = await late_money(world)
    alert = world.alerts.alerts[-1]
    assert alert.title.startswith("Money arrived for a closed payment")
    assert (alert.details["channel"], alert.details["intent"]) == (channel_id, invoice.intent_id)
