from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from adapters.catalog.notices import render
from core.domain.ids import UserId
from core.domain.outbox import RemoveMember, SendMessage
from core.domain.subscription import SubscriptionStatus
from core.services.expiry import ExpirySettings
from tests.unit.services.world import CLOSED, World, build

USERS = [UserId(100 + n) for n in range(5)]


async def subscribe_all(world: World, users: list[UserId] = USERS) -> None:
    channel = await world.channel()
    for user in users:
        invoice = await world.checkout.execute(user, channel.id, 1)
        await world.pay(invoice)


def reminders(effects: Sequence[object]) -> list[SendMessage]:
    return [
        e for e in effects if isinstance(e, SendMessage) and "ends on" in render(e.message).text
    ]


async def test_nothing_is_due_early(world: World) -> None:
    await subscribe_all(world)
    report = await world.expire.execute()
    assert (report.reminders, report.expired) == (0, 0)


async def test_reminders_go_out_once_per_lead_time(world: World) -> None:
    await subscribe_all(world)
    world.clock.advance(timedelta(days=30) - timedelta(hours=71))
    assert (await world.expire.execute()).reminders == 5
    assert (await world.expire.execute()).reminders == 0
    world.clock.advance(timedelta(hours=48))
    assert (await world.expire.execute()).reminders == 5
    sent = reminders(await world.effects())
    assert len(sent) == 10
    buttons = [
        b.callback_data or "" for m in sent for row in render(m.message).buttons for b in row
    ]
    assert {data[:2] for data in buttons} == {"o:"}


async def test_a_late_sweep_sends_only_the_most_urgent_reminder(world: World) -> None:
    await subscribe_all(world, USERS[:1])
    world.clock.advance(timedelta(days=30) - timedelta(hours=10))
    assert (await world.expire.execute()).reminders == 1
    world.clock.advance(timedelta(hours=1))
    assert (await world.expire.execute()).reminders == 0
    assert len(reminders(await world.effects())) == 1


async def test_someone_who_renewed_is_not_reminded_of_the_old_end(world: World) -> None:
    await subscribe_all(world, USERS[:1])
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
    world.clock.advance(timedelta(days=20))
    await world.pay(await world.checkout.execute(USERS[0], channel.id, 1))
    world.clock.advance(timedelta(days=9))
    assert (await world.expire.execute()).reminders == 0


async def test_expired_subscriptions_are_marked_and_their_members_removed_once(
    world: World,
) -> None:
    await subscribe_all(world)
    world.clock.advance(timedelta(days=30))
    report = await world.expire.execute()
    assert report.expired == 5
    assert (await world.expire.execute()).expired == 0
    removals = [e for e in await world.effects() if isinstance(e, RemoveMember)]
    assert sorted(e.user_id for e in removals) == USERS
    assert {e.chat_id for e in removals} == {CLOSED}
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
        statuses = {s.status for s in await tx.subscriptions.for_channel(channel.id)}
    assert statuses == {SubscriptionStatus.EXPIRED}


async def test_grace_period_delays_removal() -> None:
    world = build(expiry=ExpirySettings(grace=timedelta(hours=12)))
    await subscribe_all(world, USERS[:1])
    world.clock.advance(timedelta(days=30, hours=11))
    assert (await world.expire.execute()).expired == 0
    world.clock.advance(timedelta(hours=1))
    assert (await world.expire.execute()).expired == 1


async def test_sweeps_walk_many_pages() -> None:
    world = build(expiry=ExpirySettings(page_size=2))
    await subscribe_all(world)
    world.clock.advance(timedelta(days=31))
    assert (await world.expire.execute()).expired == 5


async def test_a_removed_member_can_come_back_by_paying_again(world: World) -> None:
    await subscribe_all(world, USERS[:1])
    async with world.uow() as tx:
        channel = (await tx.channels.all())[0]
    world.clock.advance(timedelta(days=31))
    await world.expire.execute()
    await world.pay(await world.checkout.execute(USERS[0], channel.id, 1))
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(USERS[0], channel.id)
        assert sub is not None
        grant = await tx.grants.latest_for(sub.id)
    assert (sub.status, sub.period) == (SubscriptionStatus.ACTIVE, 2)
    assert grant is not None
    assert grant.period == 2
