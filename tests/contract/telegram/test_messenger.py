"""Messenger contract: what users see after send, edit and delete, and each refusal in
the port's terms. Runs against the in-memory fake and the Telegram adapter."""

from __future__ import annotations

import pytest

from adapters.catalog.notices import render
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import Verbatim, VerbatimButton
from core.domain.rights import ChatRights, MemberStatus, Right
from core.ports.errors import NotFound, PortError, Unavailable
from core.ports.telegram import ChatGone, MessageGone, NotEnoughRights, RecipientUnreachable
from tests.contract.telegram.backends import ANN, BOB, CHANNEL, TelegramHarness

OFFER = Verbatim(
    "Pick a tier",
    (
        (VerbatimButton("1 month", url="https://t.me/paygate_test_bot?start=abc"),),
        (
            VerbatimButton("Donate", callback_data="donate:1"),
            VerbatimButton("Help", callback_data="help"),
        ),
    ),
)
SOLD_OUT = Verbatim("Sold out")


async def test_a_sent_message_shows_its_text_and_buttons(telegram: TelegramHarness) -> None:
    message_id = await telegram.messenger.send(CHANNEL, OFFER)

    assert telegram.shown(CHANNEL) == [(message_id, render(OFFER))]


async def test_message_ids_count_up_per_chat(telegram: TelegramHarness) -> None:
    ids = [
        await telegram.messenger.send(ChatId(ANN), Verbatim("one")),
        await telegram.messenger.send(ChatId(ANN), Verbatim("two")),
        await telegram.messenger.send(ChatId(BOB), Verbatim("three")),
    ]

    assert ids == [MessageId(1), MessageId(2), MessageId(1)]
    assert [m.text for _, m in telegram.shown(ChatId(ANN))] == ["one", "two"]


async def test_an_edit_replaces_text_and_buttons(telegram: TelegramHarness) -> None:
    message_id = await telegram.messenger.send(CHANNEL, OFFER)

    await telegram.messenger.edit(CHANNEL, message_id, SOLD_OUT)

    assert telegram.shown(CHANNEL) == [(message_id, render(SOLD_OUT))]


async def test_an_edit_that_changes_nothing_is_done(telegram: TelegramHarness) -> None:
    message_id = await telegram.messenger.send(CHANNEL, OFFER)

    await telegram.messenger.edit(CHANNEL, message_id, OFFER)

    assert telegram.shown(CHANNEL) == [(message_id, render(OFFER))]


async def test_editing_a_message_that_never_existed_is_message_gone(
    telegram: TelegramHarness,
) -> None:
    await telegram.messenger.send(CHANNEL, OFFER)

    with pytest.raises(MessageGone):
        await telegram.messenger.edit(CHANNEL, MessageId(77), SOLD_OUT)
    assert [m for _, m in telegram.shown(CHANNEL)] == [render(OFFER)]


async def test_editing_a_message_an_admin_deleted_is_message_gone_even_unchanged(
    telegram: TelegramHarness,
) -> None:
    """How the bot learns that its post was deleted by hand: Telegram tells it nothing
    until an edit finds no message (an identical edit, too, is not "not modified")."""
    posted = await telegram.messenger.send(CHANNEL, OFFER)
    kept = await telegram.messenger.send(CHANNEL, SOLD_OUT)
    telegram.someone_deletes(CHANNEL, posted)

    with pytest.raises(MessageGone):
        await telegram.messenger.edit(CHANNEL, posted, OFFER)
    with pytest.raises(MessageGone):
        await telegram.messenger.edit(CHANNEL, posted, SOLD_OUT)
    await telegram.messenger.delete(CHANNEL, posted)  # already gone: done
    assert telegram.shown(CHANNEL) == [(kept, render(SOLD_OUT))]


async def test_a_deleted_message_is_gone_and_deleting_it_again_is_done(
    telegram: TelegramHarness,
) -> None:
    old = await telegram.messenger.send(CHANNEL, OFFER)
    kept = await telegram.messenger.send(CHANNEL, SOLD_OUT)

    await telegram.messenger.delete(CHANNEL, old)
    await telegram.messenger.delete(CHANNEL, old)
    await telegram.messenger.delete(CHANNEL, MessageId(99))

    assert telegram.shown(CHANNEL) == [(kept, render(SOLD_OUT))]


async def test_a_user_who_blocked_the_bot_is_unreachable(telegram: TelegramHarness) -> None:
    sent = await telegram.messenger.send(ChatId(ANN), Verbatim("welcome"))
    telegram.block_bot(ANN)

    with pytest.raises(RecipientUnreachable):
        await telegram.messenger.send(ChatId(ANN), Verbatim("hello"))
    with pytest.raises(RecipientUnreachable):
        await telegram.messenger.edit(ChatId(ANN), sent, Verbatim("hello"))
    assert [m.text for _, m in telegram.shown(ChatId(ANN))] == ["welcome"]


async def test_a_user_who_never_started_the_bot_is_unreachable(
    telegram: TelegramHarness,
) -> None:
    shy = UserId(2001)
    telegram.add_user(shy, started_bot=False)

    with pytest.raises(RecipientUnreachable):
        await telegram.messenger.send(ChatId(shy), Verbatim("hello"))
    assert telegram.shown(ChatId(shy)) == []


async def test_everything_in_a_deleted_channel_is_gone(telegram: TelegramHarness) -> None:
    posted = await telegram.messenger.send(CHANNEL, OFFER)
    telegram.delete_chat(CHANNEL)

    with pytest.raises(ChatGone):
        await telegram.messenger.send(CHANNEL, OFFER)
    with pytest.raises(ChatGone):
        await telegram.messenger.edit(CHANNEL, posted, SOLD_OUT)
    with pytest.raises(ChatGone):
        await telegram.messenger.delete(CHANNEL, posted)


async def test_a_channel_that_threw_the_bot_out_is_gone(telegram: TelegramHarness) -> None:
    telegram.kick_bot(CHANNEL)

    with pytest.raises(ChatGone):
        await telegram.messenger.send(CHANNEL, OFFER)


async def test_posting_without_the_right_is_refused(telegram: TelegramHarness) -> None:
    telegram.set_bot_rights(
        CHANNEL, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.INVITE_USERS}))
    )

    with pytest.raises(NotEnoughRights):
        await telegram.messenger.send(CHANNEL, OFFER)
    assert telegram.shown(CHANNEL) == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 4097], ids=["empty", "blank", "too-long"])
async def test_a_text_telegram_cannot_show_is_refused_for_good(
    telegram: TelegramHarness, text: str
) -> None:
    with pytest.raises(PortError) as refused:
        await telegram.messenger.send(CHANNEL, Verbatim(text))

    # Not Unavailable: sending the same message again can never succeed.
    assert not isinstance(refused.value, Unavailable | NotFound)
    assert telegram.shown(CHANNEL) == []


async def test_the_longest_text_telegram_takes_is_sent_whole(telegram: TelegramHarness) -> None:
    longest = Verbatim("y" * 4096)

    message_id = await telegram.messenger.send(CHANNEL, longest)

    assert telegram.shown(CHANNEL) == [(message_id, render(longest))]
