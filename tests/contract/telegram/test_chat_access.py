"""ChatAccess contract: link modes, idempotent decisions and removals, rights, and each
refusal in the port's terms. Runs against the in-memory fake and the Telegram adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone, LinkGone, NotEnoughRights
from tests.contract.telegram.backends import (
    ANN,
    BOB,
    CHANNEL,
    OWNER,
    LinkOutcome,
    TelegramHarness,
)

NOBODY = UserId(987654)


async def join_request_link(telegram: TelegramHarness, name: str = "sub 1001 #1") -> str:
    expires = telegram.now + timedelta(days=30)
    link = await telegram.access.create_invite_link(CHANNEL, name, GrantMode.JOIN_REQUEST, expires)
    return link.url


async def member_by_paying(telegram: TelegramHarness, user: UserId) -> None:
    """The subscriber's journey in: their own link, a join request, the bot's yes."""
    assert telegram.open_link(user, await join_request_link(telegram)) is LinkOutcome.REQUESTED
    await telegram.access.approve_join_request(CHANNEL, user)


# ----------------------------------------------------------------- invite links
async def test_a_join_request_link_lets_nobody_in_by_itself(telegram: TelegramHarness) -> None:
    expires = telegram.now + timedelta(days=30)

    link = await telegram.access.create_invite_link(
        CHANNEL, "sub 1001 #1", GrantMode.JOIN_REQUEST, expires
    )

    assert link.expires_at == expires
    assert telegram.link_name(link.url) == "sub 1001 #1"
    assert telegram.open_link(ANN, link.url) is LinkOutcome.REQUESTED
    assert telegram.open_link(ANN, link.url) is LinkOutcome.REQUEST_PENDING
    assert telegram.status(CHANNEL, ANN) is MemberStatus.LEFT
    assert telegram.pending(CHANNEL) == {ANN}


async def test_every_link_is_new(telegram: TelegramHarness) -> None:
    first = await join_request_link(telegram)
    second = await join_request_link(telegram)

    assert first != second


async def test_a_link_name_is_cut_to_telegrams_32_characters(telegram: TelegramHarness) -> None:
    url = await join_request_link(telegram, name="x" * 40)

    assert telegram.link_name(url) == "x" * 32


async def test_a_one_use_link_admits_one_person(telegram: TelegramHarness) -> None:
    expires = telegram.now + timedelta(hours=2)

    link = await telegram.access.create_invite_link(
        CHANNEL, "sub 1001 #1", GrantMode.ONE_USE_LINK, expires
    )

    assert link.expires_at == expires
    assert telegram.open_link(ANN, link.url) is LinkOutcome.JOINED
    assert telegram.open_link(ANN, link.url) is LinkOutcome.LINK_INVALID
    assert telegram.open_link(BOB, link.url) is LinkOutcome.LINK_INVALID
    assert (telegram.status(CHANNEL, ANN), telegram.status(CHANNEL, BOB)) == (
        MemberStatus.MEMBER,
        MemberStatus.LEFT,
    )


async def test_a_member_opening_a_one_use_link_leaves_it_for_someone_else(
    telegram: TelegramHarness,
) -> None:
    telegram.set_member(CHANNEL, ANN, ChatRights(MemberStatus.MEMBER))
    link = await telegram.access.create_invite_link(CHANNEL, "n", GrantMode.ONE_USE_LINK, None)

    assert telegram.open_link(ANN, link.url) is LinkOutcome.ALREADY_MEMBER
    assert telegram.open_link(BOB, link.url) is LinkOutcome.JOINED


async def test_a_one_use_link_without_an_expiry_lasts_a_day(telegram: TelegramHarness) -> None:
    link = await telegram.access.create_invite_link(CHANNEL, "n", GrantMode.ONE_USE_LINK, None)

    assert link.expires_at == telegram.now + timedelta(hours=24)


async def test_a_links_expiry_is_kept_to_the_second(telegram: TelegramHarness) -> None:
    asked = telegram.now + timedelta(hours=1, microseconds=700_000)

    link = await telegram.access.create_invite_link(CHANNEL, "n", GrantMode.JOIN_REQUEST, asked)

    assert link.expires_at == telegram.now + timedelta(hours=1)


async def test_links_need_the_invite_right_and_an_existing_chat(
    telegram: TelegramHarness,
) -> None:
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )

    with pytest.raises(NotEnoughRights):
        await join_request_link(telegram)
    telegram.delete_chat(CHANNEL)
    with pytest.raises(ChatGone):
        await join_request_link(telegram)


async def test_a_bot_that_is_no_longer_an_administrator_makes_no_links(
    telegram: TelegramHarness,
) -> None:
    telegram.set_bot_rights(CHANNEL, ChatRights(MemberStatus.MEMBER))

    with pytest.raises(NotEnoughRights):
        await join_request_link(telegram)


async def test_a_revoked_link_admits_nobody_and_revoking_again_is_done(
    telegram: TelegramHarness,
) -> None:
    url = await join_request_link(telegram)
    one_use = await telegram.access.create_invite_link(CHANNEL, "n", GrantMode.ONE_USE_LINK, None)

    await telegram.access.revoke_invite_link(CHANNEL, url)
    await telegram.access.revoke_invite_link(CHANNEL, url)
    await telegram.access.revoke_invite_link(CHANNEL, one_use.url)
    await telegram.access.revoke_invite_link(CHANNEL, "https://t.me/+neverExisted0000")

    assert telegram.open_link(ANN, url) is LinkOutcome.LINK_INVALID
    assert telegram.open_link(BOB, one_use.url) is LinkOutcome.LINK_INVALID
    assert telegram.pending(CHANNEL) == set()


async def test_a_join_request_links_expiry_moves_and_it_still_asks_to_join(
    telegram: TelegramHarness,
) -> None:
    url = await join_request_link(telegram)
    later = telegram.now + timedelta(days=60, microseconds=300_000)

    link = await telegram.access.edit_invite_link(CHANNEL, url, later)

    assert (link.url, link.expires_at) == (url, telegram.now + timedelta(days=60))
    assert telegram.open_link(ANN, url) is LinkOutcome.REQUESTED
    assert telegram.status(CHANNEL, ANN) is MemberStatus.LEFT


async def test_a_revoked_or_unknown_link_cannot_be_edited(telegram: TelegramHarness) -> None:
    url = await join_request_link(telegram)
    await telegram.access.revoke_invite_link(CHANNEL, url)
    later = telegram.now + timedelta(days=60)

    with pytest.raises(LinkGone):
        await telegram.access.edit_invite_link(CHANNEL, url, later)
    with pytest.raises(LinkGone):
        await telegram.access.edit_invite_link(CHANNEL, "https://t.me/+neverExisted0000", later)


async def test_revoking_needs_the_invite_right(telegram: TelegramHarness) -> None:
    url = await join_request_link(telegram)
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )

    with pytest.raises(NotEnoughRights):
        await telegram.access.revoke_invite_link(CHANNEL, url)
    assert telegram.open_link(ANN, url) is LinkOutcome.REQUESTED


# ----------------------------------------------------------------- join requests
async def test_approving_lets_the_requester_in_and_deciding_again_is_done(
    telegram: TelegramHarness,
) -> None:
    telegram.open_link(ANN, await join_request_link(telegram))

    await telegram.access.approve_join_request(CHANNEL, ANN)
    await telegram.access.approve_join_request(CHANNEL, ANN)
    await telegram.access.decline_join_request(CHANNEL, ANN)

    assert telegram.status(CHANNEL, ANN) is MemberStatus.MEMBER
    assert telegram.pending(CHANNEL) == set()


async def test_declining_keeps_the_requester_out_and_deciding_again_is_done(
    telegram: TelegramHarness,
) -> None:
    telegram.open_link(BOB, await join_request_link(telegram))

    await telegram.access.decline_join_request(CHANNEL, BOB)
    await telegram.access.decline_join_request(CHANNEL, BOB)
    await telegram.access.approve_join_request(CHANNEL, BOB)

    assert telegram.status(CHANNEL, BOB) is MemberStatus.LEFT
    assert telegram.pending(CHANNEL) == set()


async def test_one_request_is_answered_without_touching_another(
    telegram: TelegramHarness,
) -> None:
    url = await join_request_link(telegram)
    telegram.open_link(ANN, url)
    telegram.open_link(BOB, url)

    await telegram.access.decline_join_request(CHANNEL, BOB)

    assert telegram.pending(CHANNEL) == {ANN}
    assert telegram.status(CHANNEL, BOB) is MemberStatus.LEFT


async def test_deciding_requests_needs_the_invite_right(telegram: TelegramHarness) -> None:
    telegram.open_link(ANN, await join_request_link(telegram))
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )

    with pytest.raises(NotEnoughRights):
        await telegram.access.approve_join_request(CHANNEL, ANN)
    with pytest.raises(NotEnoughRights):
        await telegram.access.decline_join_request(CHANNEL, ANN)
    assert telegram.pending(CHANNEL) == {ANN}
    assert telegram.status(CHANNEL, ANN) is MemberStatus.LEFT


# ----------------------------------------------------------------- removals
async def test_a_removed_subscriber_is_out_and_gets_back_in_after_paying_again(
    telegram: TelegramHarness,
) -> None:
    await member_by_paying(telegram, ANN)
    assert telegram.status(CHANNEL, ANN) is MemberStatus.MEMBER

    await telegram.access.remove_member(CHANNEL, ANN)
    await telegram.access.remove_member(CHANNEL, ANN)

    assert telegram.status(CHANNEL, ANN) is MemberStatus.LEFT  # out, and not banned
    await member_by_paying(telegram, ANN)
    assert telegram.status(CHANNEL, ANN) is MemberStatus.MEMBER


async def test_removing_a_banned_user_lifts_the_ban(telegram: TelegramHarness) -> None:
    telegram.set_member(CHANNEL, ANN, ChatRights(MemberStatus.KICKED))
    url = await join_request_link(telegram)
    assert telegram.open_link(ANN, url) is LinkOutcome.BANNED

    await telegram.access.remove_member(CHANNEL, ANN)

    assert telegram.status(CHANNEL, ANN) is MemberStatus.LEFT
    assert telegram.open_link(ANN, url) is LinkOutcome.REQUESTED


async def test_removing_someone_who_is_not_there_is_done(telegram: TelegramHarness) -> None:
    telegram.set_member(CHANNEL, ANN, ChatRights(MemberStatus.MEMBER))

    await telegram.access.remove_member(CHANNEL, BOB)
    await telegram.access.remove_member(CHANNEL, NOBODY)

    assert telegram.status(CHANNEL, BOB) is MemberStatus.LEFT
    assert telegram.status(CHANNEL, NOBODY) is MemberStatus.LEFT
    assert telegram.status(CHANNEL, ANN) is MemberStatus.MEMBER


async def test_an_administrator_or_the_owner_cannot_be_removed(telegram: TelegramHarness) -> None:
    telegram.set_member(
        CHANNEL, ANN, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )

    with pytest.raises(NotEnoughRights):
        await telegram.access.remove_member(CHANNEL, ANN)
    with pytest.raises(NotEnoughRights):
        await telegram.access.remove_member(CHANNEL, OWNER)
    assert telegram.status(CHANNEL, ANN) is MemberStatus.ADMINISTRATOR
    assert telegram.status(CHANNEL, OWNER) is MemberStatus.CREATOR


async def test_removing_needs_the_restrict_right(telegram: TelegramHarness) -> None:
    telegram.set_member(CHANNEL, BOB, ChatRights(MemberStatus.MEMBER))
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.INVITE_USERS}))
    )

    with pytest.raises(NotEnoughRights):
        await telegram.access.remove_member(CHANNEL, BOB)
    assert telegram.status(CHANNEL, BOB) is MemberStatus.MEMBER


async def test_nothing_can_be_removed_from_a_chat_that_is_gone(telegram: TelegramHarness) -> None:
    telegram.set_member(CHANNEL, BOB, ChatRights(MemberStatus.MEMBER))
    telegram.kick_bot(CHANNEL)

    with pytest.raises(ChatGone):
        await telegram.access.remove_member(CHANNEL, BOB)


# ----------------------------------------------------------------- rights
async def test_rights_tell_status_and_administrator_rights(telegram: TelegramHarness) -> None:
    editor = ChatRights(
        MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES, Right.INVITE_USERS})
    )
    telegram.set_member(CHANNEL, ANN, editor)
    telegram.set_member(CHANNEL, BOB, ChatRights(MemberStatus.MEMBER))

    assert await telegram.access.rights(CHANNEL, ANN) == editor
    assert await telegram.access.rights(CHANNEL, OWNER) == ChatRights(MemberStatus.CREATOR)
    assert await telegram.access.rights(CHANNEL, BOB) == ChatRights(MemberStatus.MEMBER)
    assert await telegram.access.rights(CHANNEL, NOBODY) == ChatRights(MemberStatus.LEFT)


async def test_a_removed_members_rights_say_left(telegram: TelegramHarness) -> None:
    await member_by_paying(telegram, ANN)

    await telegram.access.remove_member(CHANNEL, ANN)

    assert await telegram.access.rights(CHANNEL, ANN) == ChatRights(MemberStatus.LEFT)


async def test_the_bots_own_rights_are_read_from_the_chat(telegram: TelegramHarness) -> None:
    rights = await telegram.access.bot_rights(CHANNEL)

    assert rights.status is MemberStatus.ADMINISTRATOR
    assert rights.missing(BOT_RIGHTS_CLOSED) == ()
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )
    assert (await telegram.access.bot_rights(CHANNEL)).missing(BOT_RIGHTS_CLOSED) == (
        Right.DELETE_MESSAGES,
        Right.INVITE_USERS,
        Right.RESTRICT_MEMBERS,
    )


async def test_rights_in_a_chat_that_is_gone_raise_chat_gone(telegram: TelegramHarness) -> None:
    with pytest.raises(ChatGone):
        await telegram.access.rights(ChatId(-1009999), ANN)
    telegram.kick_bot(CHANNEL)

    with pytest.raises(ChatGone):
        await telegram.access.bot_rights(CHANNEL)
    with pytest.raises(ChatGone):
        await telegram.access.rights(CHANNEL, ANN)


# ------------------------------------------------------- Stars subscription links
async def test_a_stars_subscription_link_is_made_and_revoked(telegram: TelegramHarness) -> None:
    first = await telegram.access.create_subscription_link(CHANNEL, Money.of("500", "XTR"))
    second = await telegram.access.create_subscription_link(CHANNEL, Money.of("1", "XTR"))

    assert first.startswith("https://t.me/+") and first != second
    await telegram.access.revoke_invite_link(CHANNEL, first)
    await telegram.access.revoke_invite_link(CHANNEL, first)  # again: done


async def test_a_stars_subscription_link_needs_the_invite_right_and_the_chat(
    telegram: TelegramHarness,
) -> None:
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )
    with pytest.raises(NotEnoughRights):
        await telegram.access.create_subscription_link(CHANNEL, Money.of("500", "XTR"))
    telegram.delete_chat(CHANNEL)
    with pytest.raises(ChatGone):
        await telegram.access.create_subscription_link(CHANNEL, Money.of("500", "XTR"))
