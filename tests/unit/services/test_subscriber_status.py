from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from core.domain.offer_token import OfferToken
from core.domain.outbox import SendMessage
from core.services.subscriber_status import NoActiveSubscription, ResendAccess, SubscriberStatus
from tests.unit.services.world import KEYRING, World

USER = UserId(42)


async def subscribed(world: World) -> Channel:
    channel = await world.channel()
    await world.pay(await world.checkout.execute(USER, channel.id, 2))
    return channel


async def test_status_lists_subscriptions_with_end_dates_and_renew_tokens(world: World) -> None:
    await subscribed(world)
    views = await SubscriberStatus(world.uow, world.clock, KEYRING).execute(USER)
    assert [(v.title, v.tier, v.active) for v in views] == [("Alpha Signals", 2, True)]
    assert views[0].expires_at == world.clock.now() + timedelta(days=90)
    assert OfferToken.decode(views[0].renew_token, KEYRING).tier == 2


async def test_status_of_a_stranger_is_empty(world: World) -> None:
    await subscribed(world)
    assert await SubscriberStatus(world.uow, world.clock, KEYRING).execute(UserId(7)) == []


async def test_the_access_link_can_be_sent_again_once_per_minute(world: World) -> None:
    await subscribed(world)
    for _ in range(3):
        await world.dispatch.run_once()
    channel = await world.channel_now((await world.plan.execute()).posts[0].channel_id)
    resend = ResendAccess(world.uow, world.clock)
    await resend.execute(USER, channel.id)
    await resend.execute(USER, channel.id)
    await world.dispatch.run_once()  # the link is checked (and made good)
    await world.dispatch.run_once()  # then sent
    links = [
        m
        for m in world.messenger.sent
        if m.chat_id == ChatId(USER) and "link is yours" in m.message.text
    ]
    assert len(links) == 2  # the original and one resend
    assert links[1].message == links[0].message
    assert not [e for e in await world.effects() if isinstance(e, SendMessage)]


async def test_no_link_without_an_active_subscription(world: World) -> None:
    channel = await subscribed(world)
    world.clock.advance(timedelta(days=91))
    with pytest.raises(NoActiveSubscription):
        await ResendAccess(world.uow, world.clock).execute(USER, channel.id)
