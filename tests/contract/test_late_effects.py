"""Effects performed late (Telegram asked for a pause, or was down) are judged again
when they run: nobody who paid again is removed, no reminder speaks of an end that
moved, no goodbye reaches someone who came back, and a join request is answered by
the subscription as it stands then. On every store: the judgement is a read."""

from __future__ import annotations

from datetime import timedelta

from adapters.outbound.memory.chat_access import ChatAction
from core.domain.ids import ChatId, UserId
from core.domain.messages import Verbatim
from core.domain.outbox import SendMessage
from core.domain.rights import ChatRights, MemberStatus
from core.ports.repositories import UnitOfWorkFactory
from core.services.subscriber_status import ResendAccess
from tests.unit.services.world import CLOSED, World, build

USER = UserId(42)
PAUSE = 600.0
"""Telegram's ``retry_after`` in these tests: the retry comes ten minutes later."""


async def subscribed_member(uow_factory: UnitOfWorkFactory, member: bool = True) -> World:
    """A world where USER paid for 30 days, got their link (and, with ``member``, is
    in the closed channel), and every queued effect ran."""
    world = build(uow=uow_factory)
    channel = await world.channel()
    await world.pay(await world.checkout.execute(USER, channel.id, 1))
    await world.dispatch.run_once()
    await world.dispatch.run_once()
    if member:
        world.chat.set_member(CLOSED, USER, ChatRights(MemberStatus.MEMBER))
    return world


async def pay_again(world: World) -> None:
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
    await world.pay(await world.checkout.execute(USER, channel.id, 1))


def removals(world: World) -> list[UserId]:
    return [c.user_id for c in world.chat.calls if c.action is ChatAction.REMOVE]


def texts_sent_to(world: World, user: UserId) -> list[str]:
    return [m.message.text for m in world.messenger.sent if m.chat_id == ChatId(user)]


async def test_a_removal_held_up_by_telegram_spares_someone_who_paid_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory)
    world.clock.advance(timedelta(days=30))
    assert (await world.expire.execute()).expired == 1
    world.chat.fail_next(1, retry_after=PAUSE)
    world.messenger.fail_next(1, retry_after=PAUSE)
    await world.dispatch.run_once()
    assert removals(world) == []  # held up by the 429

    await pay_again(world)
    world.clock.advance(timedelta(seconds=PAUSE + 1))
    await world.drain()

    assert removals(world) == []
    assert world.chat.is_member(CLOSED, USER)
    assert not any("has ended" in t for t in texts_sent_to(world, USER))
    assert (await world.audit_actions()).count("outbox.dropped") == 2


async def test_a_removal_still_goes_ahead_for_someone_who_did_not_pay(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory)
    world.clock.advance(timedelta(days=30))
    await world.expire.execute()
    world.chat.fail_next(1, retry_after=PAUSE)
    await world.dispatch.run_once()
    world.clock.advance(timedelta(seconds=PAUSE + 1))
    await world.drain()
    assert removals(world) == [USER]
    assert not world.chat.is_member(CLOSED, USER)
    assert "outbox.dropped" not in await world.audit_actions()


async def test_a_reminder_of_an_end_a_renewal_moved_is_not_sent(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory)
    world.clock.advance(timedelta(days=30) - timedelta(hours=23))
    assert (await world.expire.execute()).reminders == 1
    world.messenger.fail_next(1, retry_after=PAUSE)
    await world.dispatch.run_once()

    await pay_again(world)  # early renewal: the end moves 30 days on
    world.clock.advance(timedelta(seconds=PAUSE + 1))
    await world.drain()

    reminders = [t for t in texts_sent_to(world, USER) if "ends on" in t]
    assert reminders == []
    assert "outbox.dropped" in await world.audit_actions()
    # The new end gets its own reminder in its time.
    world.clock.advance(timedelta(days=30))
    assert (await world.expire.execute()).reminders == 1
    await world.drain()
    reminders = [t for t in texts_sent_to(world, USER) if "ends on" in t]
    assert len(reminders) == 1 and "2026-04-30" in reminders[0]


async def test_an_approval_that_goes_out_after_the_end_declines_instead(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory, member=False)
    world.chat.request_join(CLOSED, USER, world.chat.links[-1].url)
    await world.join.execute(CLOSED, USER, world.clock.now())
    world.chat.fail_next(1, retry_after=PAUSE)
    await world.dispatch.run_once()

    world.clock.advance(timedelta(days=30))
    await world.drain()

    answers = [c.action for c in world.chat.calls if c.user_id == USER]
    assert ChatAction.APPROVE not in answers
    assert ChatAction.DECLINE in answers
    assert not world.chat.is_member(CLOSED, USER)


async def test_a_decline_that_goes_out_after_a_payment_approves_instead(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory, member=False)
    world.clock.advance(timedelta(days=31))
    await world.expire.execute()
    await world.dispatch.run_once()
    link = world.chat.links[-1].url
    world.chat.request_join(CLOSED, USER, link)
    await world.join.execute(CLOSED, USER, world.clock.now())  # lapsed: declined
    world.chat.fail_next(1, retry_after=PAUSE)
    world.clock.advance(timedelta(seconds=11))
    await world.dispatch.run_once()

    await pay_again(world)
    world.clock.advance(timedelta(seconds=PAUSE + 1))
    await world.drain()

    assert world.chat.is_member(CLOSED, USER)


async def test_an_unconditional_message_is_sent_without_a_look_at_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    async with world.uow() as tx:
        message = SendMessage(ChatId(7), Verbatim("hello"))
        await tx.outbox.enqueue("hello", message, world.clock.now())
        await tx.commit()
    await world.dispatch.run_once()
    assert texts_sent_to(world, UserId(7)) == ["hello"]


# ----------------------------------------------------------------- the access link
async def test_an_early_renewal_moves_the_links_expiry_to_the_new_end(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory, member=False)
    link = world.chat.links[-1]
    first_end = link.expires_at
    assert first_end is not None

    world.clock.advance(timedelta(days=10))
    await pay_again(world)
    await world.drain()

    assert world.chat.links[-1] is link  # the same link, not a new one
    assert link.expires_at == first_end + timedelta(days=30)
    assert "grant.link_extended" in await world.audit_actions()


async def test_send_my_link_again_sends_a_link_that_lasts_to_the_current_end(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory, member=False)
    link = world.chat.links[-1]
    world.clock.advance(timedelta(days=10))
    # A renewal whose link update never happened (made by an older release, say):
    # the end moved, the link still expires at the old one.
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
        sub = await tx.subscriptions.find(USER, channel.id)
        assert sub is not None
        sub.extend(timedelta(days=30), 1, world.clock.now())
        await tx.subscriptions.update(sub)
        await tx.commit()
    assert link.expires_at is not None and link.expires_at < sub.expires_at

    await ResendAccess(world.uow, world.clock).execute(USER, channel.id)
    await world.drain()

    assert link.expires_at == sub.expires_at.replace(microsecond=0)
    sent = [m for m in world.messenger.sent if m.chat_id == ChatId(USER)]
    assert [b.url for row in sent[-1].message.buttons for b in row] == [link.url]
    assert sub.expires_at.strftime("%Y-%m-%d") in sent[-1].message.text


async def test_send_my_link_again_replaces_a_link_someone_revoked(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await subscribed_member(uow_factory, member=False)
    old = world.chat.links[-1]
    old.revoked = True  # an admin revoked it in Telegram's chat settings
    world.clock.advance(timedelta(days=10))
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
    await pay_again(world)  # early renewal: the link cannot be moved along, it is replaced
    await world.drain()

    await ResendAccess(world.uow, world.clock).execute(USER, channel.id)
    await world.drain()

    new = world.chat.links[-1]
    assert new is not old and not new.revoked
    sent = [m for m in world.messenger.sent if m.chat_id == ChatId(USER)]
    assert [b.url for row in sent[-1].message.buttons for b in row] == [new.url]
    assert "grant.link_replaced" in await world.audit_actions()
