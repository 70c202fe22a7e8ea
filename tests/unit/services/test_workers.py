"""The worker-side use cases: dispatching the outbox, publishing offers, reconciling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.outbound.memory.payment_gateway import InMemoryPaymentGateway
from core.domain.ids import ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import OutboxStatus
from core.domain.payment import EventOutcome
from core.domain.rights import ChatRights, MemberStatus
from core.domain.tier import Tier
from core.ports.alerts import Severity
from core.ports.errors import Unavailable
from core.ports.telegram import ChatGone
from core.services.invoicing import IssuedInvoice
from core.services.publish_posts import NothingToPost, TooSoon
from core.services.settle_outbox import RetryPolicy
from tests.unit.services.world import CLOSED, OPEN, OWNER, TIERS, World, build, usd

USER = UserId(42)


async def paid_user(world: World) -> None:
    channel = await world.channel()
    await world.pay(await world.checkout.execute(USER, channel.id, 1))


async def drain(world: World, rounds: int = 5) -> None:
    for _ in range(rounds):
        await world.dispatch.run_once()


async def test_dispatch_delivers_the_invite_link_to_the_subscriber(world: World) -> None:
    await paid_user(world)
    await drain(world)
    to_user = [m for m in world.messenger.sent if m.chat_id == ChatId(USER)]
    assert len(to_user) == 1
    assert world.chat.links[-1].url in [b.url for row in to_user[0].message.buttons for b in row]
    assert any(m.chat_id == ChatId(OWNER) for m in world.messenger.sent)
    async with world.uow() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_the_whole_join_path_admits_the_payer_only(world: World) -> None:
    await paid_user(world)
    await drain(world)
    link = world.chat.links[-1].url
    world.chat.request_join(CLOSED, USER, link)
    world.chat.request_join(CLOSED, UserId(43), link)
    await world.join.execute(CLOSED, USER, world.clock.now())
    await world.join.execute(CLOSED, UserId(43), world.clock.now())
    await drain(world)
    world.clock.advance(timedelta(seconds=11))
    await drain(world)
    assert world.chat.is_member(CLOSED, USER)
    assert not world.chat.is_member(CLOSED, UserId(43))


async def test_telegram_asking_to_wait_postpones_the_message_without_losing_it(
    world: World,
) -> None:
    await paid_user(world)
    world.messenger.fail_next(count=1, retry_after=30)
    await drain(world, rounds=1)
    assert not [m for m in world.messenger.sent if m.chat_id == ChatId(OWNER)]
    world.clock.advance(timedelta(seconds=31))
    await drain(world)
    assert [m for m in world.messenger.sent if m.chat_id == ChatId(OWNER)]


async def test_a_user_who_blocked_the_bot_does_not_block_the_queue(world: World) -> None:
    world.messenger.block(USER)
    await paid_user(world)
    await drain(world)
    async with world.uow() as tx:
        assert await tx.outbox.pending_count() == 0
    assert "outbox.unreachable" in await world.audit_actions()


async def test_an_effect_that_keeps_failing_is_dead_lettered_with_an_alert() -> None:
    world = build(retry=RetryPolicy(max_attempts=3))
    await paid_user(world)
    world.chat.set_bot_rights(CLOSED, ChatRights(MemberStatus.MEMBER))
    for _ in range(4):
        await world.dispatch.run_once()
        world.clock.advance(timedelta(hours=2))
    dead = [a for a in world.alerts.alerts if a.severity is Severity.CRITICAL]
    assert len(dead) == 1
    assert "issue_invite" in dead[0].title
    async with world.uow() as tx:
        message = await tx.outbox.get(dead[0].details["key"])
    assert message is not None
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
    assert "NotEnoughRights" in (message.last_error or "")


async def test_publish_posts_the_offer_and_replaces_it_when_tiers_change(world: World) -> None:
    channel = await world.channel()
    report = await world.publish.run_once()
    assert (report.posted, report.failed) == (2, 0)
    first = world.messenger.visible(OPEN)
    assert len(first) == 1
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(8), 30),))
    await world.publish.run_once()
    now_visible = world.messenger.visible(OPEN)
    assert len(now_visible) == 1
    assert "8 USD" in now_visible[0].message.text
    assert (await world.channel_now(channel.id)).offer_post is not None


async def test_a_chat_that_refuses_the_bot_pauses_sales_and_tells_the_owner(
    world: World,
) -> None:
    channel = await world.channel()
    world.messenger.failures.arm(ChatGone("chat not found"), 1)
    report = await world.publish.run_once()
    assert report.paused == 1
    assert (await world.channel_now(channel.id)).sales_paused


async def test_manual_refresh_respects_the_cooldown(world: World) -> None:
    channel = await world.channel()
    await world.publish.run_once()
    with pytest.raises(TooSoon):
        await world.publish.refresh_now(channel.id)
    world.clock.advance(timedelta(minutes=11))
    assert (await world.publish.refresh_now(channel.id)).posted == 1


async def test_a_manual_refresh_of_a_channel_selling_nothing_says_why_and_posts_nothing(
    world: World,
) -> None:
    channel = await world.channel(tiers=())
    with pytest.raises(NothingToPost, match="no_tiers_yet"):
        await world.publish.refresh_now(channel.id)
    await world.set_tiers.execute(OWNER, channel.id, TIERS)
    await world.sales.pause(OPEN, "the bot lost its right to post")
    with pytest.raises(
        NothingToPost, match=r"paused_no_post\(reason=the bot lost its right to post\)"
    ):
        await world.publish.refresh_now(channel.id)
    assert world.messenger.sent == []


async def test_reconciliation_applies_a_payment_whose_webhook_was_lost(world: World) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    world.gateway.set_payment(world.notification(invoice, IntentStatus.FINISHED))
    world.clock.advance(timedelta(minutes=31))
    report = await world.reconcile.run_once()
    assert (report.checked, report.applied) == (1, 1)
    async with world.uow() as tx:
        assert await tx.subscriptions.find(USER, channel.id) is not None


async def test_unpaid_invoices_never_hide_a_lost_payment_from_reconciliation(
    world: World,
) -> None:
    """More opened-but-unpaid invoices than one run looks at come first by age; the
    paid one behind them is still found within a few runs."""
    channel = await world.channel()
    for user in range(1, 251):  # invoices opened, never paid
        await world.checkout.execute(UserId(9_000 + user), channel.id, 1)
    world.clock.advance(timedelta(minutes=1))
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    world.gateway.set_payment(world.notification(invoice, IntentStatus.FINISHED))
    world.clock.advance(timedelta(minutes=31))

    applied = [(await world.reconcile.run_once()).applied for _ in range(3)]

    assert applied == [0, 0, 1]
    async with world.uow() as tx:
        assert await tx.subscriptions.find(USER, channel.id) is not None


async def test_reconciliation_survives_a_provider_outage(world: World) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    world.gateway.fail_next(Unavailable("down"))
    world.clock.advance(timedelta(minutes=31))
    assert (await world.reconcile.run_once()).failed == 1


async def test_an_invoice_never_opened_is_abandoned_after_a_week(world: World) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    world.clock.advance(timedelta(days=7, minutes=1))
    assert (await world.reconcile.run_once()).abandoned == 1
    late = await world.verify.execute(world.notification(invoice, IntentStatus.FINISHED))
    assert late.outcome is EventOutcome.STALE
    assert world.alerts.alerts[-1].severity is Severity.CRITICAL


async def _invoice_id(world: World, invoice: IssuedInvoice) -> str:
    async with world.uow() as tx:
        invoice_id = (await tx.intents.get(invoice.intent_id)).invoice_id
    assert invoice_id is not None
    return invoice_id


async def test_a_payment_whose_every_notification_was_lost_is_found_by_its_invoice(
    world: World,
) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    invoice_id = await _invoice_id(world, invoice)
    world.gateway.set_payment(
        world.notification(invoice, IntentStatus.FINISHED, invoice_id=invoice_id)
    )
    elsewhere = await world.checkout.execute(UserId(43), channel.id, 1)  # paid nothing
    world.clock.advance(timedelta(minutes=31))

    report = await world.reconcile.run_once()

    assert (report.checked, report.applied, report.failed) == (2, 1, 0)
    async with world.uow() as tx:
        assert await tx.subscriptions.find(USER, channel.id) is not None
        assert await tx.subscriptions.find(UserId(43), channel.id) is None
        # Found once: from now on the payment is looked up by its id.
        assert (await tx.intents.get(invoice.intent_id)).payment_id is not None
        assert (await tx.intents.get(elsewhere.intent_id)).status is IntentStatus.CREATED
    assert (await world.reconcile.run_once()).applied == 0


async def test_an_invoice_the_provider_lists_no_payment_for_is_abandoned_after_a_week(
    world: World,
) -> None:
    channel = await world.channel()
    await world.checkout.execute(USER, channel.id, 1)
    world.clock.advance(timedelta(days=6))
    early = await world.reconcile.run_once()
    world.clock.advance(timedelta(days=1, minutes=1))
    late = await world.reconcile.run_once()

    assert (early.checked, early.abandoned) == (1, 0)
    assert (late.checked, late.abandoned) == (1, 1)


async def test_an_account_that_cannot_list_payments_still_abandons_after_a_week() -> None:
    world = build(gateway=InMemoryPaymentGateway("test-ipn-secret", lists_payments=False))
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    world.gateway.set_payment(
        world.notification(
            invoice, IntentStatus.FINISHED, invoice_id=await _invoice_id(world, invoice)
        )
    )
    world.clock.advance(timedelta(days=7, minutes=1))

    report = await world.reconcile.run_once()

    # Nothing to look it up by: the payment stays unknown until a notification comes.
    assert (report.applied, report.abandoned, report.failed) == (0, 1, 0)


async def test_a_provider_outage_while_listing_an_invoice_is_a_failed_check(
    world: World,
) -> None:
    channel = await world.channel()
    await world.checkout.execute(USER, channel.id, 1)
    world.gateway.fail_next(Unavailable("down"))
    world.clock.advance(timedelta(days=7, minutes=1))

    report = await world.reconcile.run_once()

    # Not abandoned on an outage: the provider may well list a payment next time.
    assert (report.failed, report.abandoned) == (1, 0)


async def test_posting_records_the_message_standing_in_the_chat(world: World) -> None:
    channel = await world.channel()
    await world.publish.run_once()
    stored = await world.channel_now(channel.id)
    assert stored.offer_post is not None
    assert stored.offer_post.message_id == world.messenger.visible(OPEN)[0].message_id
