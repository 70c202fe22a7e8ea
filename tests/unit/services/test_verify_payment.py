from __future__ import annotations

from datetime import timedelta

import attrs

from core.domain.channel import Channel
from core.domain.grant import GrantStatus
from core.domain.ids import ChannelId, ChatId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import IssueInvite, SendMessage
from core.domain.payment import EventOutcome
from core.domain.subscription import Subscription
from core.domain.tier import Tier
from core.ports.alerts import Severity
from core.services.invoicing import IssuedInvoice
from core.services.verify_payment import PaymentPolicy
from tests.unit.services.world import OWNER, World, build, usd

USER = UserId(42)
S = IntentStatus


async def checkout(world: World, tier: int = 1) -> tuple[Channel, IssuedInvoice]:
    channel = await world.channel()
    return channel, await world.checkout.execute(USER, channel.id, tier)


async def subscription_of(world: World, channel_id: ChannelId) -> Subscription | None:
    async with world.uow() as tx:
        return await tx.subscriptions.find(USER, channel_id)


async def test_finished_payment_creates_the_subscription_and_queues_one_grant(
    world: World,
) -> None:
    channel, invoice = await checkout(world)
    result = await world.pay(invoice)
    assert (result.outcome, result.status) == (EventOutcome.GRANTED, S.FINISHED)
    sub = await subscription_of(world, channel.id)
    assert sub is not None
    assert sub.expires_at == world.clock.now() + timedelta(days=30)
    grants = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert len(grants) == 1
    assert any("New subscription" in t for t in await world.texts_to(OWNER))


async def test_a_replayed_notification_is_recorded_once_and_changes_nothing(
    world: World,
) -> None:
    _channel, invoice = await checkout(world)
    await world.pay(invoice)
    before = await world.keys()
    replay = await world.verify.execute(world.notification(invoice, S.FINISHED))
    assert replay.outcome is EventOutcome.DUPLICATE
    assert await world.keys() == before
    async with world.uow() as tx:
        events = await tx.events.for_intent(invoice.intent_id)
    assert [e.status for e in events] == [S.WAITING, S.CONFIRMING, S.FINISHED]


async def test_out_of_order_notification_is_stale_and_never_moves_back(world: World) -> None:
    _, invoice = await checkout(world)
    await world.verify.execute(world.notification(invoice, S.CONFIRMING))
    late = await world.verify.execute(world.notification(invoice, S.WAITING))
    assert (late.outcome, late.status) == (EventOutcome.STALE, S.CONFIRMING)


async def test_confirmed_does_not_grant_under_the_default_policy(world: World) -> None:
    channel, invoice = await checkout(world)
    result = await world.verify.execute(world.notification(invoice, S.CONFIRMED))
    assert result.outcome is EventOutcome.APPLIED
    assert await subscription_of(world, channel.id) is None


async def test_policy_may_grant_on_confirmed_and_finished_then_grants_nothing_more() -> None:
    world = build(policy=PaymentPolicy(paying_status=S.CONFIRMED))
    _channel, invoice = await checkout(world)
    first = await world.verify.execute(world.notification(invoice, S.CONFIRMED))
    then = await world.verify.execute(world.notification(invoice, S.FINISHED))
    assert (first.outcome, then.outcome) == (EventOutcome.GRANTED, EventOutcome.APPLIED)
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 1


async def test_underpayment_beyond_tolerance_moves_the_status_but_never_grants(
    world: World,
) -> None:
    channel, invoice = await checkout(world)
    result = await world.verify.execute(
        world.notification(invoice, S.FINISHED, asked="0.004", paid="0.0039")
    )
    assert (result.outcome, result.status) == (EventOutcome.UNDERPAID, S.FINISHED)
    assert await subscription_of(world, channel.id) is None
    assert [a.severity for a in world.alerts.alerts] == [Severity.WARNING]


async def test_underpayment_within_tolerance_grants(world: World) -> None:
    _channel, invoice = await checkout(world)
    result = await world.verify.execute(
        world.notification(invoice, S.FINISHED, asked="1.000", paid="0.996")
    )
    assert result.outcome is EventOutcome.GRANTED


async def test_overpayment_grants(world: World) -> None:
    _, invoice = await checkout(world)
    result = await world.verify.execute(
        world.notification(invoice, S.FINISHED, asked="0.004", paid="0.005")
    )
    assert result.outcome is EventOutcome.GRANTED


async def test_a_notification_without_amounts_never_grants_on_faith(world: World) -> None:
    channel, invoice = await checkout(world)
    n = world.notification(invoice, S.FINISHED)
    result = await world.verify.execute(attrs.evolve(n, actually_paid=None))
    assert result.outcome is EventOutcome.UNDERPAID
    assert await subscription_of(world, channel.id) is None


async def test_a_different_price_or_currency_is_a_mismatch_and_alerts(world: World) -> None:
    channel, invoice = await checkout(world)
    cheap = await world.verify.execute(world.notification(invoice, S.FINISHED, price=usd(1)))
    assert (cheap.outcome, cheap.status) == (EventOutcome.MISMATCH, S.CREATED)
    assert await subscription_of(world, channel.id) is None
    assert world.alerts.alerts[-1].severity is Severity.CRITICAL


async def test_a_forged_order_id_is_recorded_as_unknown_and_alerts(world: World) -> None:
    _, invoice = await checkout(world)
    n = world.notification(invoice, S.FINISHED, order_id=f"{invoice.intent_id}_" + "A" * 22)
    result = await world.verify.execute(n)
    assert (result.outcome, result.intent_id) == (EventOutcome.UNKNOWN_ORDER, None)
    assert world.alerts.alerts[-1].severity is Severity.CRITICAL
    assert not [e for e in await world.effects() if isinstance(e, IssueInvite)]


async def test_a_signed_order_for_no_intent_of_ours_never_grants(world: World) -> None:
    await world.channel()
    n = world.notification(IntentId("nosuchintent"), S.FINISHED)
    result = await world.verify.execute(n)
    assert result.outcome is EventOutcome.UNKNOWN_ORDER
    assert await world.effects() == []


async def test_an_extra_deposit_with_a_parent_payment_is_never_auto_granted(
    world: World,
) -> None:
    channel, invoice = await checkout(world)
    result = await world.verify.execute(
        world.notification(invoice, S.FINISHED, payment_id="child", parent="p1")
    )
    assert result.outcome is EventOutcome.CHILD_PAYMENT
    assert await subscription_of(world, channel.id) is None


async def test_money_arriving_after_expiry_alerts_but_does_not_grant(world: World) -> None:
    channel, invoice = await checkout(world)
    await world.verify.execute(world.notification(invoice, S.EXPIRED))
    late = await world.verify.execute(world.notification(invoice, S.FINISHED, payment_id="p2"))
    assert (late.outcome, late.status) == (EventOutcome.STALE, S.EXPIRED)
    assert await subscription_of(world, channel.id) is None
    assert world.alerts.alerts[-1].title.startswith("Money arrived for a closed payment")


async def test_a_second_payment_of_a_paid_invoice_alerts_and_grants_nothing_more(
    world: World,
) -> None:
    channel, invoice = await checkout(world)
    await world.verify.execute(world.notification(invoice, S.FINISHED))
    expires = (await subscription_of(world, channel.id)).expires_at  # type: ignore[union-attr]
    again = await world.verify.execute(world.notification(invoice, S.FINISHED, payment_id="p2"))
    assert again.outcome is EventOutcome.STALE
    assert (await subscription_of(world, channel.id)).expires_at == expires  # type: ignore[union-attr]
    assert world.alerts.alerts[-1].severity is Severity.CRITICAL
    assert world.alerts.alerts[-1].title.startswith("Money arrived for a closed payment")


async def test_a_late_status_of_the_payment_already_granted_raises_no_alarm(
    world: World,
) -> None:
    """Only another payment is money for nothing; the granted one's stragglers are not."""
    channel, invoice = await checkout(world)
    world_alerts_before = len(world.alerts.alerts)
    await world.verify.execute(world.notification(invoice, S.FINISHED))
    replay_later_status = await world.verify.execute(world.notification(invoice, S.SENDING))
    assert replay_later_status.outcome is EventOutcome.STALE
    assert len(world.alerts.alerts) == world_alerts_before
    assert await subscription_of(world, channel.id) is not None


async def test_paying_again_while_active_extends_from_the_end_and_sends_no_new_link(
    world: World,
) -> None:
    channel, first = await checkout(world)
    await world.pay(first)
    world.clock.advance(timedelta(days=10))
    second = await world.checkout.execute(USER, channel.id, 1)
    assert second.intent_id != first.intent_id
    await world.pay(second)
    sub = await subscription_of(world, channel.id)
    assert sub is not None
    assert sub.expires_at == sub.starts_at + timedelta(days=60)
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 1
    assert any("now runs until" in t for t in await world.texts_to(USER))
    assert any("Renewal" in t for t in await world.texts_to(OWNER))


async def test_the_duration_bought_is_kept_even_if_the_owner_edits_tiers_meanwhile(
    world: World,
) -> None:
    channel, invoice = await checkout(world)
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(10), 7),))
    await world.pay(invoice)
    sub = await subscription_of(world, channel.id)
    assert sub is not None
    assert sub.expires_at - sub.starts_at == timedelta(days=30)


async def test_grant_is_queued_with_the_subscription_in_one_unit_of_work(world: World) -> None:
    channel, invoice = await checkout(world)
    await world.pay(invoice)
    sub = await subscription_of(world, channel.id)
    assert sub is not None
    async with world.uow() as tx:
        grant = await tx.grants.latest_for(sub.id)
    assert grant is not None
    assert (grant.status, grant.period, grant.user_id) == (GrantStatus.QUEUED, 1, USER)
    actions = await world.audit_actions()
    assert actions.index("payment.granted") > actions.index("subscription.started")


async def test_every_owner_notification_is_sent_once(world: World) -> None:
    _, invoice = await checkout(world)
    await world.pay(invoice)
    await world.verify.execute(world.notification(invoice, S.FINISHED))
    owner = [
        e
        for e in await world.effects()
        if isinstance(e, SendMessage) and e.chat_id == ChatId(OWNER)
    ]
    assert len(owner) == 1
