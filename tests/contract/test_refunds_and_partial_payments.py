"""A refund takes back what the payment bought; a partial payment tells the payer what
is missing. On every store: the changes are written with the notification."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from adapters.outbound.memory.chat_access import ChatAction
from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.rights import ChatRights, MemberStatus
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import IssuedInvoice
from tests.unit.services.world import CLOSED, OWNER, World, build

USER = UserId(42)


async def paid_member(uow_factory: UnitOfWorkFactory) -> tuple[World, Channel, IssuedInvoice]:
    world = build(uow=uow_factory)
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.pay(invoice)
    await world.drain()
    world.chat.set_member(CLOSED, USER, ChatRights(MemberStatus.MEMBER))
    return world, channel, invoice


async def subscription(world: World, channel: Channel) -> Subscription:
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(USER, channel.id)
    assert sub is not None
    return sub


def told(world: World, chat: int) -> list[str]:
    return [m.message.text for m in world.messenger.sent if m.chat_id == ChatId(chat)]


async def test_a_refund_of_the_only_payment_ends_access_and_removes_the_member(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, channel, invoice = await paid_member(uow_factory)
    world.clock.advance(timedelta(days=3))

    await world.verify.execute(world.notification(invoice, IntentStatus.REFUNDED))
    await world.drain()

    sub = await subscription(world, channel)
    assert sub.status is SubscriptionStatus.REVOKED
    assert not sub.is_active_at(world.clock.now())
    assert not world.chat.is_member(CLOSED, USER)
    assert [c.action for c in world.chat.calls if c.user_id == USER][-1] is ChatAction.REMOVE
    assert any("was refunded" in t and "access has ended" in t for t in told(world, USER))
    assert any(t.startswith("Refund in Alpha Signals: user 42") for t in told(world, OWNER))
    assert "subscription.refunded" in await world.audit_actions()


async def test_a_refund_of_a_renewal_takes_back_its_time_and_the_member_stays(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, channel, _ = await paid_member(uow_factory)
    first_end = (await subscription(world, channel)).expires_at
    world.clock.advance(timedelta(days=5))
    renewal = await world.checkout.execute(USER, channel.id, 1)
    await world.pay(renewal)
    assert (await subscription(world, channel)).expires_at == first_end + timedelta(days=30)

    await world.verify.execute(world.notification(renewal, IntentStatus.REFUNDED))
    await world.drain()

    sub = await subscription(world, channel)
    assert (sub.status, sub.expires_at) == (SubscriptionStatus.ACTIVE, first_end)
    assert world.chat.is_member(CLOSED, USER)
    assert any("now ends on 2026-03-31" in t for t in told(world, USER))


async def test_a_refund_of_a_term_already_over_takes_nothing_from_the_current_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, channel, first = await paid_member(uow_factory)
    world.clock.advance(timedelta(days=31))
    await world.expire.execute()
    await world.pay(await world.checkout.execute(USER, channel.id, 1))
    before = await subscription(world, channel)

    await world.verify.execute(world.notification(first, IntentStatus.REFUNDED))

    after = await subscription(world, channel)
    assert (after.status, after.expires_at) == (SubscriptionStatus.ACTIVE, before.expires_at)


async def test_a_refunded_donation_is_told_to_the_donor_and_the_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, channel, _ = await paid_member(uow_factory)
    donation = await world.donate.execute(USER, channel.id, Decimal("15"))
    await world.pay(donation)

    await world.verify.execute(world.notification(donation, IntentStatus.REFUNDED))
    await world.drain()

    assert any("donation of 15 USD" in t and "refunded" in t for t in told(world, USER))
    assert "donation.refunded" in await world.audit_actions()
    assert (await subscription(world, channel)).status is SubscriptionStatus.ACTIVE


async def test_a_partial_payment_tells_the_payer_what_is_missing_and_where_to_send_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))

    partly = world.notification(invoice, IntentStatus.PARTIALLY_PAID, paid="0.003")
    await world.verify.execute(partly)
    await world.verify.execute(partly)  # the provider repeats itself: told once
    await world.drain()

    notes = [m for m in world.messenger.sent if "incomplete" in m.message.text]
    assert len(notes) == 1
    assert "0.003 BTC of 0.004 BTC arrived; 0.001 BTC is missing" in notes[0].message.text
    assert [b.url for row in notes[0].message.buttons for b in row] == [invoice.url]
    assert (await subscription_or_none(world, channel)) is None


async def test_a_payment_closed_with_too_little_tells_the_payer_it_cannot_buy_access(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)

    await world.pay(invoice, paid="0.002")
    await world.drain()

    notes = [t for t in told(world, USER) if "incomplete" in t]
    assert len(notes) == 1 and "cannot buy access" in notes[0]
    assert (await subscription_or_none(world, channel)) is None


async def subscription_or_none(world: World, channel: Channel) -> Subscription | None:
    async with world.uow() as tx:
        return await tx.subscriptions.find(USER, channel.id)
