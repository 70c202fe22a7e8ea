"""Bundles (issue 21): one subscription to a home channel opens the closed chats of the
other channels its owner bundled with it. Every grant, reminder, renewal and removal
covers all of them, exactly once each. On every store."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.catalog import texts
from adapters.catalog.notices import render
from adapters.outbound.memory.chat_access import ChatAction
from core.domain.bundle import MAX_MEMBERS
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, NotAuthorized
from core.domain.ids import ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.messages import Offer
from core.domain.outbox import IssueBundleInvite, SendMessage
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.domain.subscription import Subscription
from core.ports.repositories import UnitOfWorkFactory
from core.services.bundle_access import BundleAccess
from core.services.join_requests import JoinDecision
from tests.unit.services.world import CLOSED, OWNER, TIERS, World, build

USER = UserId(42)
STRANGER = UserId(43)
RIVAL = UserId(2000)


async def channel_of(world: World, n: int, title: str, owner: UserId = OWNER) -> Channel:
    """Another channel pair, registered by ``owner`` (who created both chats)."""
    open_chat, closed_chat = ChatId(-3000 - 2 * n), ChatId(-3001 - 2 * n)
    for chat, rights in ((open_chat, BOT_RIGHTS_OPEN), (closed_chat, BOT_RIGHTS_CLOSED)):
        world.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, rights))
        world.chat.set_member(chat, owner, ChatRights(MemberStatus.CREATOR))
    channel = await world.register.execute(owner, open_chat, closed_chat, title)
    return await world.set_tiers.execute(owner, channel.id, TIERS)


async def bundled(uow_factory: UnitOfWorkFactory) -> tuple[World, Channel, Channel, Channel]:
    """Alpha Signals bundling Beta VIP and Gamma VIP."""
    world = build(uow=uow_factory)
    home = await world.channel()
    beta = await channel_of(world, 1, "Beta VIP")
    gamma = await channel_of(world, 2, "Gamma VIP")
    await world.bundles.add(OWNER, home.id, [beta.id, gamma.id])
    return world, home, beta, gamma


async def buy(world: World, home: Channel, user: UserId = USER) -> None:
    invoice = await world.checkout.execute(user, home.id, 1)
    await world.pay(invoice)
    await world.drain()


def links_to(world: World, chat: ChatId) -> list[str]:
    return [link.url for link in world.chat.links if link.chat_id == chat and not link.revoked]


def join_all(world: World, user: UserId, *chats: ChatId) -> None:
    for chat in chats:
        world.chat.set_member(chat, user, ChatRights(MemberStatus.MEMBER))


def removals(world: World, user: UserId = USER) -> list[ChatId]:
    return [
        c.chat_id for c in world.chat.calls if c.action is ChatAction.REMOVE and c.user_id == user
    ]


def invites_to(world: World, user: UserId) -> list[str]:
    return [
        m.message.text
        for m in world.messenger.sent
        if m.chat_id == ChatId(user) and "Welcome to" in m.message.text
    ]


async def subscription(world: World, home: Channel, user: UserId = USER) -> Subscription:
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(user, home.id)
    assert sub is not None
    return sub


async def test_buying_a_bundle_grants_each_closed_chat_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    await world.drain()

    for chat in (CLOSED, beta.closed_chat_id, gamma.closed_chat_id):
        assert len(links_to(world, chat)) == 1
    welcomes = invites_to(world, USER)
    assert len(welcomes) == 3
    assert [t for t in welcomes if "Beta VIP" in t] and [t for t in welcomes if "Gamma VIP" in t]
    assert (await world.audit_actions()).count("bundle.granted") == 2


async def test_a_bundle_subscriber_is_approved_in_every_bundled_chat_and_a_stranger_is_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    now = world.clock.now()
    for chat in (beta.closed_chat_id, gamma.closed_chat_id):
        assert await world.join.execute(chat, USER, now) is JoinDecision.APPROVED
        assert await world.join.execute(chat, STRANGER, now) is JoinDecision.DECLINED
    world.chat.request_join(beta.closed_chat_id, USER, links_to(world, beta.closed_chat_id)[0])
    await world.drain()
    assert world.chat.is_member(beta.closed_chat_id, USER)


async def test_a_subscriber_of_a_bundled_channel_does_not_get_the_home_chat(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, _, beta, _ = await bundled(uow_factory)
    await buy(world, beta)
    now = world.clock.now()
    assert await world.join.execute(CLOSED, USER, now) is JoinDecision.DECLINED
    assert links_to(world, CLOSED) == []


async def test_one_reminder_names_the_whole_bundle(uow_factory: UnitOfWorkFactory) -> None:
    world, home, _, _ = await bundled(uow_factory)
    await buy(world, home)
    world.clock.advance(timedelta(days=30) - timedelta(hours=71))
    assert (await world.expire.execute()).reminders == 1
    reminders = [t for t in await world.texts_to(USER) if "ends on" in t]
    assert len(reminders) == 1
    assert "Alpha Signals" in reminders[0]
    assert "Includes: Beta VIP, Gamma VIP" in reminders[0]


async def test_a_renewal_extends_every_chat_without_new_links(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    world.clock.advance(timedelta(days=20))
    await buy(world, home)
    world.clock.advance(timedelta(days=15))  # past the first term's end

    assert (await world.expire.execute()).expired == 0
    for chat in (beta.closed_chat_id, gamma.closed_chat_id):
        assert len(links_to(world, chat)) == 1
        assert await world.join.execute(chat, USER, world.clock.now()) is JoinDecision.APPROVED


async def test_expiry_removes_from_every_chat_exactly_once(uow_factory: UnitOfWorkFactory) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    chats = (CLOSED, beta.closed_chat_id, gamma.closed_chat_id)
    join_all(world, USER, *chats)
    world.clock.advance(timedelta(days=31))

    assert (await world.expire.execute()).expired == 1
    await world.drain()
    await world.expire.execute()
    await world.drain()

    assert sorted(removals(world)) == sorted(chats)
    assert not any(world.chat.is_member(chat, USER) for chat in chats)
    goodbyes = [
        m
        for m in world.messenger.sent
        if m.chat_id == ChatId(USER) and "has ended" in m.message.text
    ]
    assert len(goodbyes) == 1


async def test_expiry_keeps_someone_in_a_chat_they_subscribed_to_themselves(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    await buy(world, beta)  # their own subscription to Beta, also 30 days
    world.clock.advance(timedelta(days=10))
    await buy(world, beta)  # ... renewed: Beta now runs 30 days past the bundle
    chats = (CLOSED, beta.closed_chat_id, gamma.closed_chat_id)
    join_all(world, USER, *chats)
    world.clock.advance(timedelta(days=21))

    await world.expire.execute()
    await world.drain()

    assert sorted(removals(world)) == sorted([CLOSED, gamma.closed_chat_id])
    assert world.chat.is_member(beta.closed_chat_id, USER)
    assert "outbox.dropped" in await world.audit_actions()


async def test_a_refund_removes_from_every_bundled_chat(uow_factory: UnitOfWorkFactory) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    invoice = await world.checkout.execute(USER, home.id, 1)
    await world.pay(invoice)
    await world.drain()
    chats = (CLOSED, beta.closed_chat_id, gamma.closed_chat_id)
    join_all(world, USER, *chats)
    world.clock.advance(timedelta(days=2))

    await world.verify.execute(world.notification(invoice, IntentStatus.REFUNDED))
    await world.drain()

    assert sorted(removals(world)) == sorted(chats)


async def test_a_refund_in_a_channel_without_a_bundle_removes_from_its_chat_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    home = await world.channel()
    invoice = await world.checkout.execute(USER, home.id, 1)
    await world.pay(invoice)
    await world.drain()
    join_all(world, USER, CLOSED)
    await world.verify.execute(world.notification(invoice, IntentStatus.REFUNDED))
    await world.drain()
    assert removals(world) == [CLOSED]


async def test_a_channel_added_later_is_granted_to_active_subscribers_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, _, _ = await bundled(uow_factory)
    await buy(world, home)
    await buy(world, home, STRANGER)
    world.clock.advance(timedelta(days=31))
    await world.expire.execute()  # STRANGER's and USER's terms end...
    await buy(world, home)  # ... and USER comes back
    delta = await channel_of(world, 3, "Delta VIP")

    saved = await world.bundles.add(OWNER, home.id, [delta.id])
    await world.drain()
    await world.drain()

    assert saved.granted == 1
    assert [m.title for m in saved.members] == ["Beta VIP", "Gamma VIP", "Delta VIP"]
    assert len(links_to(world, delta.closed_chat_id)) == 1
    assert [t for t in invites_to(world, USER) if "Delta VIP" in t]
    assert not [t for t in invites_to(world, STRANGER) if "Delta VIP" in t]
    with pytest.raises(InvalidChannel):
        await world.bundles.add(OWNER, home.id, [delta.id])


async def test_a_grant_checks_the_bundle_again_when_it_runs(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, _, _ = await bundled(uow_factory)
    await buy(world, home)
    delta = await channel_of(world, 3, "Delta VIP")
    await world.bundles.add(OWNER, home.id, [delta.id])
    await world.bundles.remove(OWNER, home.id, [delta.id])  # before the grant ran
    await world.drain()

    assert links_to(world, delta.closed_chat_id) == []
    assert "bundle.grant_skipped" in await world.audit_actions()


async def test_removing_a_channel_removes_its_bundle_subscribers_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    join_all(world, USER, CLOSED, beta.closed_chat_id, gamma.closed_chat_id)

    saved = await world.bundles.remove(OWNER, home.id, [gamma.id])
    await world.drain()

    assert [m.title for m in saved.members] == ["Beta VIP"]
    assert removals(world) == [gamma.closed_chat_id]
    now = world.clock.now()
    assert await world.join.execute(gamma.closed_chat_id, USER, now) is JoinDecision.DECLINED
    assert await world.join.execute(beta.closed_chat_id, USER, now) is JoinDecision.APPROVED
    with pytest.raises(InvalidChannel):
        await world.bundles.remove(OWNER, home.id, [gamma.id])


async def test_only_other_channels_of_the_same_owner_join_a_bundle(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, _, _ = await bundled(uow_factory)
    theirs = await channel_of(world, 4, "Rival VIP", owner=RIVAL)
    with pytest.raises(NotAuthorized):
        await world.bundles.add(OWNER, home.id, [theirs.id])
    with pytest.raises(NotAuthorized):
        await world.bundles.add(RIVAL, home.id, [theirs.id])
    with pytest.raises(InvalidChannel):
        await world.bundles.add(OWNER, home.id, [home.id])
    shown = await world.bundles.show(OWNER, home.id)
    assert [m.title for m in shown.members] == ["Beta VIP", "Gamma VIP"]


async def test_a_bundle_holds_a_bounded_number_of_channels(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    home = await world.channel()
    others = [await channel_of(world, 10 + n, f"Room {n}") for n in range(MAX_MEMBERS + 1)]
    await world.bundles.add(OWNER, home.id, [c.id for c in others[:MAX_MEMBERS]])
    with pytest.raises(InvalidChannel):
        await world.bundles.add(OWNER, home.id, [others[-1].id])
    assert len((await world.bundles.show(OWNER, home.id)).members) == MAX_MEMBERS


async def test_the_offer_names_what_the_subscription_includes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, _, _ = await bundled(uow_factory)
    plan = await world.plan.execute()
    offers = [
        p.message for p in plan.posts if p.channel_id == home.id and isinstance(p.message, Offer)
    ]
    assert len(offers) == 1 and isinstance(offers[0], Offer)
    assert offers[0].includes == ("Beta VIP", "Gamma VIP")
    assert "Includes: Beta VIP, Gamma VIP" in render(offers[0]).text


async def test_changing_a_bundle_makes_the_posted_offer_stale(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, _, gamma = await bundled(uow_factory)
    before = (await world.channel_now(home.id)).tiers_version
    await world.bundles.remove(OWNER, home.id, [gamma.id])
    assert (await world.channel_now(home.id)).tiers_version == before + 1


async def test_two_workers_granting_the_same_bundle_chat_grant_it_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, _ = await bundled(uow_factory)
    invoice = await world.checkout.execute(USER, home.id, 1)
    await world.pay(invoice)
    sub = await subscription(world, home)
    effect = IssueBundleInvite(sub.id, sub.period, beta.id)
    workers = [BundleAccess(world.uow, world.clock, chat_access=world.chat) for _ in range(2)]

    outcomes = await asyncio.gather(*(w.grant(effect) for w in workers))

    assert sorted(outcomes) == [False, True]
    assert len(links_to(world, beta.closed_chat_id)) == 1  # the loser's link was revoked
    sends = [
        e
        for e in await world.effects()
        if isinstance(e, SendMessage) and "Beta VIP" in render(e.message).text
    ]
    assert len(sends) == 1
    async with world.uow() as tx:
        grants = await tx.bundles.grants_of(sub.id)
    assert [(g.period, g.channel_id) for g in grants] == [(sub.period, beta.id)]


async def test_a_bundle_keeps_the_order_its_channels_were_added_in(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build(uow=uow_factory)
    home = await world.channel()
    beta = await channel_of(world, 1, "Beta VIP")
    gamma = await channel_of(world, 2, "Gamma VIP")
    delta = await channel_of(world, 3, "Delta VIP")
    await world.bundles.add(OWNER, home.id, [gamma.id, beta.id])  # in one unit of work
    await world.bundles.add(OWNER, home.id, [delta.id])

    shown = await world.bundles.show(OWNER, home.id)

    assert [m.title for m in shown.members] == ["Gamma VIP", "Beta VIP", "Delta VIP"]
    async with world.uow() as tx:
        assert list(await tx.bundles.pairs()) == [
            (home.id, gamma.id),
            (home.id, beta.id),
            (home.id, delta.id),
        ]
        assert list(await tx.bundles.homes_of(beta.id)) == [home.id]


async def test_a_channel_that_changes_hands_leaves_its_former_owners_bundles(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    join_all(world, USER, CLOSED, beta.closed_chat_id, gamma.closed_chat_id)
    for chat in (beta.open_chat_id, beta.closed_chat_id):
        world.chat.set_member(chat, RIVAL, ChatRights(MemberStatus.CREATOR))

    taken = await world.register.execute(RIVAL, beta.open_chat_id, beta.closed_chat_id, "Beta VIP")
    await world.drain()

    assert taken.id == beta.id and taken.owner_id == RIVAL
    shown = await world.bundles.show(OWNER, home.id)
    assert [m.title for m in shown.members] == ["Gamma VIP"]
    assert removals(world) == [beta.closed_chat_id]
    now = world.clock.now()
    assert await world.join.execute(beta.closed_chat_id, USER, now) is JoinDecision.DECLINED
    assert (await world.audit_actions()).count("bundle.dropped") == 1


async def test_a_home_channel_that_changes_hands_keeps_no_bundle_of_another_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, gamma = await bundled(uow_factory)
    await buy(world, home)
    join_all(world, USER, CLOSED, beta.closed_chat_id, gamma.closed_chat_id)
    for chat in (home.open_chat_id, home.closed_chat_id):
        world.chat.set_member(chat, RIVAL, ChatRights(MemberStatus.CREATOR))

    await world.register.execute(RIVAL, home.open_chat_id, home.closed_chat_id, "Alpha Signals")
    await world.drain()

    assert (await world.bundles.show(RIVAL, home.id)).members == ()
    assert sorted(removals(world)) == sorted([beta.closed_chat_id, gamma.closed_chat_id])
    assert world.chat.is_member(CLOSED, USER)  # their subscription to the channel stands
    assert (await world.audit_actions()).count("bundle.dropped") == 2


async def test_asking_for_the_link_again_sends_each_bundled_chats_link_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world, home, beta, _ = await bundled(uow_factory)
    await buy(world, home)

    await world.resend.execute(USER, home.id)
    await world.resend.execute(USER, home.id)  # a second tap in the same minute
    await world.drain()

    welcomes = invites_to(world, USER)
    assert len(welcomes) == 6  # each chat's link at the grant, and once again
    assert len([t for t in welcomes if "Beta VIP" in t]) == 2
    assert len([t for t in welcomes if "Gamma VIP" in t]) == 2
    assert (await world.audit_actions()).count("bundle.resent") == 2
    newest = links_to(world, beta.closed_chat_id)[-1]
    world.chat.request_join(beta.closed_chat_id, USER, newest)
    await world.join.execute(beta.closed_chat_id, USER, world.clock.now())
    await world.drain()
    assert world.chat.is_member(beta.closed_chat_id, USER)


async def test_status_names_what_a_subscription_includes(uow_factory: UnitOfWorkFactory) -> None:
    world, home, _, _ = await bundled(uow_factory)
    await buy(world, home)

    (view,) = await world.status.execute(USER)

    assert view.includes == ("Beta VIP", "Gamma VIP")
    assert "\n  Includes: Beta VIP, Gamma VIP" in texts.status([view]).text
