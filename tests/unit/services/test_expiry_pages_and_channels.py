"""The expiry sweep keeps what it reads across its pages (channels) and skips what can
need nothing (subscriptions already ended, for reminders): neither may change who
gets which message."""

from __future__ import annotations

from datetime import timedelta

from adapters.catalog.notices import render
from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from core.domain.outbox import RemoveMember, SendMessage
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.services.expiry import ExpirySettings
from tests.unit.services.world import CLOSED, OWNER, TIERS, World, build

BETA_OPEN = ChatId(-2001)
BETA_CLOSED = ChatId(-2002)


async def second_channel(world: World) -> Channel:
    for chat, rights in ((BETA_OPEN, BOT_RIGHTS_OPEN), (BETA_CLOSED, BOT_RIGHTS_CLOSED)):
        world.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, rights))
        world.chat.set_member(chat, OWNER, ChatRights(MemberStatus.CREATOR))
    channel = await world.register.execute(OWNER, BETA_OPEN, BETA_CLOSED, "Beta Notes")
    return await world.set_tiers.execute(OWNER, channel.id, TIERS)


async def subscribe(world: World, user: UserId, channel: Channel) -> None:
    await world.pay(await world.checkout.execute(user, channel.id, 1))


async def test_members_of_two_channels_are_removed_from_their_own_chat_page_after_page() -> None:
    world = build(expiry=ExpirySettings(page_size=1))
    alpha = await world.channel()
    beta = await second_channel(world)
    members = {UserId(100): alpha, UserId(101): beta, UserId(102): alpha, UserId(103): beta}
    for user, channel in members.items():
        await subscribe(world, user, channel)
    world.clock.advance(timedelta(days=31))

    assert (await world.expire.execute()).expired == 4

    effects = await world.effects()
    removed = {(e.chat_id, e.user_id) for e in effects if isinstance(e, RemoveMember)}
    assert removed == {
        (CLOSED, UserId(100)),
        (BETA_CLOSED, UserId(101)),
        (CLOSED, UserId(102)),
        (BETA_CLOSED, UserId(103)),
    }
    ended = {
        e.chat_id: render(e.message).text
        for e in effects
        if isinstance(e, SendMessage) and "has ended" in render(e.message).text
    }
    assert ended == {
        101: "Your subscription to Beta Notes has ended. You can come back any time.",
        100: "Your subscription to Alpha Signals has ended. You can come back any time.",
        102: "Your subscription to Alpha Signals has ended. You can come back any time.",
        103: "Your subscription to Beta Notes has ended. You can come back any time.",
    }


async def test_a_reminder_reaches_its_subscriber_behind_subscriptions_in_their_grace() -> None:
    world = build(expiry=ExpirySettings(page_size=1, grace=timedelta(days=5)))
    alpha = await world.channel()
    in_grace = [UserId(200), UserId(201), UserId(202)]
    for user in in_grace:
        await subscribe(world, user, alpha)
    world.clock.advance(timedelta(days=2))
    await subscribe(world, UserId(300), alpha)
    # The first three ended a day ago and stay (grace); the last one ends in a day.
    world.clock.advance(timedelta(days=29))

    report = await world.expire.execute()

    assert (report.reminders, report.expired) == (1, 0)
    reminded = [
        e.chat_id
        for e in await world.effects()
        if isinstance(e, SendMessage) and "ends on" in render(e.message).text
    ]
    assert reminded == [300]
