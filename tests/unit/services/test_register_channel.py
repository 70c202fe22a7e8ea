from __future__ import annotations

import pytest

from adapters.catalog.refusals import refusal
from adapters.outbound.memory.sellers import AllowlistedSellers
from core.domain.channel import Channel, PayoutWallet
from core.domain.errors import AlreadyRegistered, ClosedToSellers, InvalidChannel, MissingRights
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.rights import ChatRights, MemberStatus, Right
from core.services.register_channel import RegisterChannel
from tests.unit.services.world import CLOSED, OPEN, OWNER, START, TIERS, World

ADMIN = UserId(3000)
"""An admin of both chats the owner created: not someone who may sell them."""
OTHER_CLOSED = ChatId(-1003)


def admin_too(world: World) -> None:
    for chat in (OPEN, CLOSED):
        world.chat.set_member(
            chat,
            ADMIN,
            ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES})),
        )


async def registered_by(world: World, user: UserId) -> Channel:
    """The pair as an admin registered it before creators were required, with tiers
    and a payout wallet of their own."""
    channel = Channel(
        id=ChannelId("taken"),
        owner_id=user,
        open_chat_id=OPEN,
        closed_chat_id=CLOSED,
        title="Alpha Signals",
        created_at=START,
        tiers=TIERS,
        payout_wallet=PayoutWallet("bc1-admins-wallet", "BTC"),
    )
    async with world.uow() as tx:
        await tx.channels.add(channel)
        await tx.commit()
    return channel


async def test_the_creator_of_both_chats_with_a_rightful_bot_registers_a_pair(
    world: World,
) -> None:
    world.admin_chats()
    channel = await world.register.execute(OWNER, OPEN, CLOSED, "  Alpha  ")
    stored = await world.channel_now(channel.id)
    assert (stored.owner_id, stored.open_chat_id, stored.closed_chat_id, stored.title) == (
        OWNER,
        OPEN,
        CLOSED,
        "Alpha",
    )
    assert "channel.registered" in await world.audit_actions()


async def test_someone_who_is_not_admin_of_both_chats_is_refused(world: World) -> None:
    world.admin_chats()
    world.chat.set_member(CLOSED, OWNER, ChatRights(MemberStatus.MEMBER))
    with pytest.raises(MissingRights, match=r"creator_only\(which=closed\)"):
        await world.register.execute(OWNER, OPEN, CLOSED, "Alpha")


async def test_an_admin_who_did_not_create_the_chats_is_refused(world: World) -> None:
    world.admin_chats()
    admin_too(world)
    with pytest.raises(MissingRights) as info:
        await world.register.execute(ADMIN, OPEN, CLOSED, "Alpha")
    assert refusal(info.value) == (
        "Only the creator of the open channel can register it; "
        "you are an admin there, not its creator: ask its creator to register it."
    )
    async with world.uow() as tx:
        assert list(await tx.channels.all()) == []


async def test_the_creator_of_one_chat_only_is_refused(world: World) -> None:
    world.admin_chats()
    admin_too(world)
    world.chat.set_member(OPEN, ADMIN, ChatRights(MemberStatus.CREATOR))
    with pytest.raises(MissingRights, match=r"creator_only_admin\(which=closed\)"):
        await world.register.execute(ADMIN, OPEN, CLOSED, "Alpha")


async def test_missing_bot_rights_are_named(world: World) -> None:
    world.admin_chats()
    world.chat.set_bot_rights(
        CLOSED, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )
    with pytest.raises(MissingRights, match=r"bot_rights\(which=closed\)") as info:
        await world.register.execute(OWNER, OPEN, CLOSED, "Alpha")
    assert set(info.value.missing) == {
        "can_delete_messages",
        "can_invite_users",
        "can_restrict_members",
    }


async def test_a_chat_the_bot_is_not_in_gives_a_clear_error(world: World) -> None:
    world.admin_chats()
    with pytest.raises(MissingRights, match="bot_cannot_see_creator"):
        await world.register.execute(OWNER, OPEN, ChatId(-999), "Alpha")


async def test_a_chat_belongs_to_one_pair_only(world: World) -> None:
    await world.channel()
    world.chat.add_chat(OTHER_CLOSED)
    world.chat.set_member(OTHER_CLOSED, OWNER, ChatRights(MemberStatus.CREATOR))
    world.chat.set_bot_rights(OTHER_CLOSED, ChatRights(MemberStatus.CREATOR))
    with pytest.raises(AlreadyRegistered, match=r"taken_by_you\(which=.*, title=Alpha Signals\)"):
        await world.register.execute(OWNER, OTHER_CLOSED, CLOSED, "Beta")


async def test_the_same_chat_twice_is_refused_before_asking_telegram(world: World) -> None:
    with pytest.raises(InvalidChannel, match="same_chats"):
        await world.register.execute(UserId(5), OPEN, OPEN, "Alpha")
    assert (world.chat.calls, world.chat.links) == ([], [])


async def test_the_creator_reclaims_a_pair_an_admin_registered(world: World) -> None:
    world.admin_chats()
    taken = await registered_by(world, ADMIN)
    subscriber = UserId(42)
    await world.pay(await world.checkout.execute(subscriber, taken.id, 1))

    registration = await world.register.register(
        OWNER, OPEN, CLOSED, "Mine", PayoutWallet("bc1-owners-wallet", "BTC")
    )

    stored = await world.channel_now(taken.id)
    assert registration.reclaimed_from == ADMIN
    assert registration.channel.id == taken.id
    assert (stored.owner_id, stored.title, stored.tiers) == (OWNER, "Alpha Signals", TIERS)
    assert stored.payout_wallet == PayoutWallet("bc1-owners-wallet", "BTC")
    async with world.uow() as tx:
        kept = await tx.subscriptions.find(subscriber, taken.id)
    assert kept is not None and kept.expires_at > world.clock.now()
    assert "channel.reclaimed" in await world.audit_actions()
    assert (await world.texts_to(ADMIN))[-1] == (
        "The creator of the chats of Alpha Signals has taken the channel over: "
        "it is no longer yours to manage in PayGate."
    )


async def test_the_creator_of_one_chat_of_a_registered_pair_is_told_what_to_do(
    world: World,
) -> None:
    world.admin_chats()
    await registered_by(world, ADMIN)
    world.chat.add_chat(OTHER_CLOSED)
    world.chat.set_member(OTHER_CLOSED, OWNER, ChatRights(MemberStatus.CREATOR))
    world.chat.set_member(CLOSED, OWNER, ChatRights(MemberStatus.ADMINISTRATOR))

    with pytest.raises(AlreadyRegistered) as info:
        await world.register.execute(OWNER, OPEN, OTHER_CLOSED, "Mine")

    assert refusal(info.value) == (
        f"The open channel is already part of a channel someone else registered "
        f"(open {OPEN}, closed {CLOSED}). Only the creator of both of its chats can take "
        f"it over, by registering exactly that pair, and you did not create chat {CLOSED}: "
        "ask its creator."
    )
    assert (await world.channel_now(ChannelId("taken"))).owner_id == ADMIN


async def test_the_creator_of_both_chats_giving_another_pair_is_told_to_give_that_pair(
    world: World,
) -> None:
    world.admin_chats()
    await registered_by(world, ADMIN)
    world.chat.add_chat(OTHER_CLOSED)
    world.chat.set_member(OTHER_CLOSED, OWNER, ChatRights(MemberStatus.CREATOR))

    with pytest.raises(AlreadyRegistered, match="taken_you_created"):
        await world.register.execute(OWNER, OPEN, OTHER_CLOSED, "Mine")


async def test_registering_ones_own_pair_again_changes_nothing(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(AlreadyRegistered, match="taken_by_you"):
        await world.register.execute(OWNER, OPEN, CLOSED, "Again")
    assert (await world.channel_now(channel.id)).title == "Alpha Signals"
    assert "channel.reclaimed" not in await world.audit_actions()


async def test_a_user_the_allowlist_leaves_out_is_refused_before_telegram_is_asked(
    world: World,
) -> None:
    world.admin_chats()
    world.chat.fail_next(count=10)  # any Telegram call would fail the test differently
    register = RegisterChannel(
        world.uow, world.clock, _Ids(), world.chat, AllowlistedSellers([UserId(7)])
    )
    with pytest.raises(ClosedToSellers) as info:
        await register.execute(OWNER, OPEN, CLOSED, "Alpha")
    assert refusal(info.value) == "This PayGate is not open for new sellers; ask its operator."


async def test_a_listed_seller_registers(world: World) -> None:
    world.admin_chats()
    register = RegisterChannel(
        world.uow, world.clock, _Ids(), world.chat, AllowlistedSellers([OWNER])
    )
    channel = await register.execute(OWNER, OPEN, CLOSED, "Alpha")
    assert (await world.channel_now(channel.id)).owner_id == OWNER


async def test_the_allowlist_also_bars_reclaiming(world: World) -> None:
    world.admin_chats()
    await registered_by(world, ADMIN)
    register = RegisterChannel(
        world.uow, world.clock, _Ids(), world.chat, AllowlistedSellers([ADMIN])
    )
    with pytest.raises(ClosedToSellers):
        await register.execute(OWNER, OPEN, CLOSED, "Mine")
    assert (await world.channel_now(ChannelId("taken"))).owner_id == ADMIN


class _Ids:
    def new_id(self) -> str:
        return "c1"
