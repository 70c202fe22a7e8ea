"""ChatAccess over the Bot API: link modes, idempotent decisions and removals, rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.telegram import TelegramBotClient, TelegramChatAccess
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone, NotEnoughRights
from sandbox.telegram import JoinOutcome, Status, TelegramEmulator
from tests.contract.telegram.conftest import ANN, BOB, CHANNEL, OWNER

IN_A_MONTH = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)


async def join_request_link(access: TelegramChatAccess) -> str:
    link = await access.create_invite_link(
        ChatId(CHANNEL), "sub 1001 #1", GrantMode.JOIN_REQUEST, IN_A_MONTH
    )
    return link.url


async def test_a_join_request_link_lets_nobody_in_by_itself(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    link = await chat_access.create_invite_link(
        ChatId(CHANNEL), "sub 1001 #1", GrantMode.JOIN_REQUEST, IN_A_MONTH
    )

    assert link.expires_at == IN_A_MONTH
    (stored,) = emulator.links(CHANNEL)
    assert (stored.url, stored.name, stored.creates_join_request, stored.member_limit) == (
        link.url,
        "sub 1001 #1",
        True,
        None,
    )
    assert emulator.user_opens_link(ANN, link.url) is JoinOutcome.REQUESTED
    assert emulator.status_of(CHANNEL, ANN) is Status.LEFT
    assert emulator.pending_requests(CHANNEL) == [ANN]


async def test_a_link_name_is_cut_to_telegrams_32_characters(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    await chat_access.create_invite_link(
        ChatId(CHANNEL), "x" * 40, GrantMode.JOIN_REQUEST, IN_A_MONTH
    )

    assert emulator.links(CHANNEL)[0].name == "x" * 32


async def test_a_one_use_link_admits_one_person_and_expires(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)

    link = await chat_access.create_invite_link(
        ChatId(CHANNEL), "sub 1001 #1", GrantMode.ONE_USE_LINK, expires
    )

    assert link.expires_at == expires
    (stored,) = emulator.links(CHANNEL)
    assert (stored.member_limit, stored.creates_join_request) == (1, False)
    assert emulator.user_opens_link(ANN, link.url) is JoinOutcome.JOINED
    assert emulator.user_opens_link(BOB, link.url) is JoinOutcome.LINK_INVALID
    assert emulator.status_of(CHANNEL, BOB) is Status.LEFT


async def test_a_one_use_link_without_an_expiry_gets_the_default_lifetime(
    client: TelegramBotClient, emulator: TelegramEmulator
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    access = TelegramChatAccess(client, one_use_ttl=timedelta(hours=3), now=lambda: now)

    link = await access.create_invite_link(ChatId(CHANNEL), "n", GrantMode.ONE_USE_LINK, None)

    assert link.expires_at == now + timedelta(hours=3)
    assert emulator.links(CHANNEL)[0].expire_date == int((now + timedelta(hours=3)).timestamp())


async def test_approving_lets_the_requester_in_and_approving_again_is_fine(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.user_opens_link(ANN, await join_request_link(chat_access))

    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))
    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))
    await chat_access.decline_join_request(ChatId(CHANNEL), UserId(ANN))

    assert emulator.status_of(CHANNEL, ANN) is Status.MEMBER
    assert [c.description for c in emulator.rejected(400)] == [
        "Bad Request: USER_ALREADY_PARTICIPANT",
        "Bad Request: USER_ALREADY_PARTICIPANT",
    ]


async def test_declining_keeps_the_requester_out_and_deciding_again_is_fine(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.user_opens_link(BOB, await join_request_link(chat_access))

    await chat_access.decline_join_request(ChatId(CHANNEL), UserId(BOB))
    await chat_access.decline_join_request(ChatId(CHANNEL), UserId(BOB))
    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(BOB))

    assert emulator.status_of(CHANNEL, BOB) is Status.LEFT
    assert emulator.pending_requests(CHANNEL) == []
    assert [c.description for c in emulator.rejected(400)] == [
        "Bad Request: HIDE_REQUESTER_MISSING",
        "Bad Request: HIDE_REQUESTER_MISSING",
    ]


async def test_deciding_requests_needs_the_invite_right(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.user_opens_link(ANN, await join_request_link(chat_access))
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_post_messages"])

    with pytest.raises(NotEnoughRights, match=r"(?i)not enough rights to manage chat join"):
        await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))
    with pytest.raises(NotEnoughRights):
        await chat_access.decline_join_request(ChatId(CHANNEL), UserId(ANN))
    assert emulator.pending_requests(CHANNEL) == [ANN]


async def test_links_need_the_invite_right_and_an_existing_chat(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_post_messages"])

    with pytest.raises(NotEnoughRights, match=r"(?i)not enough rights to manage chat invite link"):
        await join_request_link(chat_access)
    emulator.remove_chat(CHANNEL)
    with pytest.raises(ChatGone):
        await join_request_link(chat_access)


async def test_a_revoked_link_admits_nobody_and_revoking_again_is_fine(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    url = await join_request_link(chat_access)

    await chat_access.revoke_invite_link(ChatId(CHANNEL), url)
    await chat_access.revoke_invite_link(ChatId(CHANNEL), url)
    await chat_access.revoke_invite_link(ChatId(CHANNEL), "https://t.me/+neverExisted0000")

    assert emulator.links(CHANNEL)[0].is_revoked
    assert emulator.user_opens_link(ANN, url) is JoinOutcome.LINK_INVALID


async def test_a_removed_member_is_out_and_may_come_back(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.user_opens_link(ANN, await join_request_link(chat_access))
    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))

    await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))
    await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))

    assert emulator.status_of(CHANNEL, ANN) is Status.LEFT  # out, and not banned
    assert emulator.user_opens_link(ANN, await join_request_link(chat_access)) is (
        JoinOutcome.REQUESTED
    )
    # One call per removal: an unban without only_if_banned, Telegram's one-call kick.
    assert [(c.method, c.params.get("only_if_banned")) for c in emulator.calls[-3:-1]] == [
        ("unbanChatMember", "false"),
        ("unbanChatMember", "false"),
    ]
    assert emulator.calls_to("banChatMember") == []


async def test_removing_a_banned_user_lifts_the_ban(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_member(CHANNEL, ANN, "kicked")

    await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))

    assert emulator.status_of(CHANNEL, ANN) is Status.LEFT


async def test_removing_someone_who_is_not_there_is_fine(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    await chat_access.remove_member(ChatId(CHANNEL), UserId(BOB))
    await chat_access.remove_member(ChatId(CHANNEL), UserId(987654))

    assert emulator.status_of(CHANNEL, BOB) is Status.LEFT
    assert emulator.status_of(CHANNEL, 987654) is Status.LEFT


async def test_removing_an_administrator_or_without_the_right_is_refused(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_admin(CHANNEL, ANN, "can_post_messages")
    emulator.set_member(CHANNEL, BOB)

    with pytest.raises(NotEnoughRights, match=r"(?i)administrator of the chat"):
        await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_invite_users"])
    with pytest.raises(NotEnoughRights, match=r"(?i)restrict/unrestrict"):
        await chat_access.remove_member(ChatId(CHANNEL), UserId(BOB))
    assert emulator.status_of(CHANNEL, BOB) is Status.MEMBER


async def test_rights_tell_status_and_administrator_rights(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_admin(CHANNEL, ANN, "can_post_messages", "can_invite_users", "can_change_info")
    emulator.set_member(CHANNEL, BOB)

    assert await chat_access.rights(ChatId(CHANNEL), UserId(ANN)) == ChatRights(
        MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES, Right.INVITE_USERS})
    )
    assert await chat_access.rights(ChatId(CHANNEL), UserId(OWNER)) == ChatRights(
        MemberStatus.CREATOR
    )
    assert await chat_access.rights(ChatId(CHANNEL), UserId(BOB)) == ChatRights(MemberStatus.MEMBER)
    assert await chat_access.rights(ChatId(CHANNEL), UserId(987654)) == ChatRights(
        MemberStatus.LEFT
    )


async def test_the_bots_own_rights_are_read_from_the_chat(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    rights = await chat_access.bot_rights(ChatId(CHANNEL))

    assert rights.status is MemberStatus.ADMINISTRATOR
    assert rights.missing(BOT_RIGHTS_CLOSED) == ()
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_post_messages"])
    assert (await chat_access.bot_rights(ChatId(CHANNEL))).missing(BOT_RIGHTS_CLOSED) == (
        Right.DELETE_MESSAGES,
        Right.INVITE_USERS,
        Right.RESTRICT_MEMBERS,
    )


async def test_rights_in_a_chat_that_is_gone_raise_chat_gone(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.remove_chat(CHANNEL)

    with pytest.raises(ChatGone):
        await chat_access.bot_rights(ChatId(CHANNEL))
    with pytest.raises(ChatGone):
        await chat_access.rights(ChatId(-1009999), UserId(ANN))
