"""What only the real adapters have: the Bot API calls they make, and how Telegram's
own answers (as the emulator words them) become the ports' outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.outbound.telegram import TelegramChatAccess, TelegramMessenger
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import Verbatim
from core.domain.rights import ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone, NotEnoughRights, RecipientUnreachable
from sandbox.telegram import TelegramEmulator
from tests.contract.telegram.backends import ANN, BOB, CHANNEL

IN_A_MONTH = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
HELLO = Verbatim("hello")


async def test_text_is_sent_without_markup_parsing(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    await messenger.send(ChatId(ANN), Verbatim("<b>Ann & co</b> *not bold*"))

    (sent,) = emulator.calls_to("sendMessage")
    assert "parse_mode" not in sent.params
    assert emulator.messages(ANN)[0].text == "<b>Ann & co</b> *not bold*"


async def test_refusals_keep_telegrams_reason(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.add_user(2001, "Shy", started_bot=False)
    emulator.user_blocks_bot(ANN)

    with pytest.raises(RecipientUnreachable, match="blocked by the user"):
        await messenger.send(ChatId(ANN), HELLO)
    with pytest.raises(RecipientUnreachable, match="initiate conversation"):
        await messenger.send(ChatId(2001), HELLO)
    with pytest.raises(RecipientUnreachable, match=r"(?i)chat not found"):
        await messenger.send(ChatId(2999), HELLO)  # a user Telegram never saw
    emulator.set_bot_rights(CHANNEL, "kicked")
    with pytest.raises(ChatGone, match="kicked"):
        await messenger.send(ChatId(CHANNEL), HELLO)


async def test_an_edit_that_changes_nothing_is_telegrams_400_taken_as_done(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), HELLO)

    await messenger.edit(ChatId(CHANNEL), message_id, HELLO)

    (refused,) = emulator.rejected(400)
    assert refused.method == "editMessageText"
    assert (refused.description or "").startswith("Bad Request: message is not modified")


async def test_deleting_again_is_telegrams_400_taken_as_done(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), HELLO)

    await messenger.delete(ChatId(CHANNEL), message_id)
    await messenger.delete(ChatId(CHANNEL), MessageId(message_id))

    assert [(c.ok, c.description) for c in emulator.calls_to("deleteMessage")] == [
        (True, None),
        (False, "Bad Request: message to delete not found"),
    ]


async def test_link_modes_on_the_wire(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    await chat_access.create_invite_link(
        ChatId(CHANNEL), "join", GrantMode.JOIN_REQUEST, IN_A_MONTH
    )
    await chat_access.create_invite_link(ChatId(CHANNEL), "once", GrantMode.ONE_USE_LINK, None)

    join, once = emulator.links(CHANNEL)
    assert (join.name, join.creates_join_request, join.member_limit, join.expire_date) == (
        "join",
        True,
        None,  # Telegram refuses a member limit on a link that needs approval
        int(IN_A_MONTH.timestamp()),
    )
    assert (once.name, once.creates_join_request, once.member_limit) == ("once", False, 1)


async def test_decisions_already_taken_are_telegrams_400s_taken_as_done(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    link = await chat_access.create_invite_link(
        ChatId(CHANNEL), "j", GrantMode.JOIN_REQUEST, IN_A_MONTH
    )
    emulator.user_opens_link(ANN, link.url)
    emulator.user_opens_link(BOB, link.url)

    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))
    await chat_access.approve_join_request(ChatId(CHANNEL), UserId(ANN))
    await chat_access.decline_join_request(ChatId(CHANNEL), UserId(BOB))
    await chat_access.decline_join_request(ChatId(CHANNEL), UserId(BOB))

    assert [c.description for c in emulator.rejected(400)] == [
        "Bad Request: USER_ALREADY_PARTICIPANT",
        "Bad Request: HIDE_REQUESTER_MISSING",
    ]


async def test_revoking_an_unknown_link_is_telegrams_400_taken_as_done(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    await chat_access.revoke_invite_link(ChatId(CHANNEL), "https://t.me/+neverExisted0000")

    assert [c.description for c in emulator.rejected(400)] == ["Bad Request: INVITE_HASH_EXPIRED"]


async def test_a_removal_is_one_unban_call_and_never_a_ban(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_member(CHANNEL, ANN)
    emulator.set_member(CHANNEL, BOB)

    await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))
    await chat_access.remove_member(ChatId(CHANNEL), UserId(BOB))
    await chat_access.remove_member(ChatId(CHANNEL), UserId(BOB))

    # Without only_if_banned, unbanChatMember removes a member: Telegram's one-call kick.
    assert [
        (c.method, c.params["user_id"], c.params.get("only_if_banned"), c.ok)
        for c in emulator.calls
        if c.method != "getMe"
    ] == [
        ("unbanChatMember", str(ANN), "false", True),
        ("unbanChatMember", str(BOB), "false", True),
        ("unbanChatMember", str(BOB), "false", True),
    ]


async def test_refusals_to_remove_keep_telegrams_reason(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_admin(CHANNEL, ANN, "can_post_messages")
    emulator.set_member(CHANNEL, BOB)

    with pytest.raises(NotEnoughRights, match=r"(?i)administrator of the chat"):
        await chat_access.remove_member(ChatId(CHANNEL), UserId(ANN))
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_invite_users"])
    with pytest.raises(NotEnoughRights, match=r"(?i)restrict/unrestrict"):
        await chat_access.remove_member(ChatId(CHANNEL), UserId(BOB))


async def test_rights_outside_the_domains_are_not_reported(
    chat_access: TelegramChatAccess, emulator: TelegramEmulator
) -> None:
    emulator.set_admin(CHANNEL, ANN, "can_post_messages", "can_change_info", "can_pin_messages")

    assert await chat_access.rights(ChatId(CHANNEL), UserId(ANN)) == ChatRights(
        MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES})
    )
