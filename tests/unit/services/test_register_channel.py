from __future__ import annotations

import pytest

from core.domain.errors import AlreadyRegistered, InvalidChannel, MissingRights
from core.domain.ids import ChatId, UserId
from core.domain.rights import ChatRights, MemberStatus, Right
from tests.unit.services.world import CLOSED, OPEN, OWNER, World


async def test_an_admin_owner_with_a_rightful_bot_registers_a_pair(world: World) -> None:
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
    with pytest.raises(MissingRights, match="admin of the closed channel"):
        await world.register.execute(OWNER, OPEN, CLOSED, "Alpha")


async def test_missing_bot_rights_are_named(world: World) -> None:
    world.admin_chats()
    world.chat.set_bot_rights(
        CLOSED, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )
    with pytest.raises(MissingRights, match="closed channel with: delete messages") as info:
        await world.register.execute(OWNER, OPEN, CLOSED, "Alpha")
    assert set(info.value.missing) == {
        "can_delete_messages",
        "can_invite_users",
        "can_restrict_members",
    }


async def test_a_chat_the_bot_is_not_in_gives_a_clear_error(world: World) -> None:
    world.admin_chats()
    with pytest.raises(MissingRights, match="add the bot"):
        await world.register.execute(OWNER, OPEN, ChatId(-999), "Alpha")


async def test_a_chat_belongs_to_one_pair_only(world: World) -> None:
    await world.channel()
    world.chat.add_chat(ChatId(-1003))
    world.chat.set_member(ChatId(-1003), OWNER, ChatRights(MemberStatus.CREATOR))
    world.chat.set_bot_rights(ChatId(-1003), ChatRights(MemberStatus.CREATOR))
    with pytest.raises(AlreadyRegistered):
        await world.register.execute(OWNER, ChatId(-1003), CLOSED, "Beta")


async def test_the_same_chat_twice_is_refused_before_asking_telegram(world: World) -> None:
    with pytest.raises(InvalidChannel, match="different chats"):
        await world.register.execute(UserId(5), OPEN, OPEN, "Alpha")
    assert (world.chat.calls, world.chat.links) == ([], [])
