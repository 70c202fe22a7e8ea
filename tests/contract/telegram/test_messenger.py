"""Messenger over the Bot API: what users see, and each refusal in the port's terms."""

from __future__ import annotations

import pytest

from adapters.outbound.telegram import TelegramMessenger
from core.domain.ids import ChatId, MessageId
from core.domain.messages import Button, OutgoingMessage
from core.ports.errors import NotFound
from core.ports.telegram import ChatGone, NotEnoughRights, RecipientUnreachable
from sandbox.telegram import TelegramEmulator
from tests.contract.telegram.conftest import ANN, CHANNEL

OFFER = OutgoingMessage(
    "Pick a tier",
    (
        (Button("1 month", url="https://t.me/paygate_test_bot?start=abc"),),
        (Button("Donate", callback_data="donate:1"), Button("Help", callback_data="help")),
    ),
)


async def test_a_sent_message_shows_its_text_and_buttons(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), OFFER)

    (posted,) = emulator.messages(CHANNEL)
    assert posted.message_id == message_id
    assert posted.text == "Pick a tier"
    assert posted.reply_markup == {
        "inline_keyboard": [
            [{"text": "1 month", "url": "https://t.me/paygate_test_bot?start=abc"}],
            [
                {"text": "Donate", "callback_data": "donate:1"},
                {"text": "Help", "callback_data": "help"},
            ],
        ]
    }


async def test_text_is_sent_without_markup_parsing(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    await messenger.send(ChatId(ANN), OutgoingMessage("<b>Ann & co</b> *not bold*"))

    (sent,) = emulator.calls_to("sendMessage")
    assert "parse_mode" not in sent.params
    assert emulator.messages(ANN)[0].text == "<b>Ann & co</b> *not bold*"


async def test_message_ids_count_up_per_chat(messenger: TelegramMessenger) -> None:
    first = await messenger.send(ChatId(ANN), OutgoingMessage("one"))
    second = await messenger.send(ChatId(ANN), OutgoingMessage("two"))

    assert (first, second) == (1, 2)


async def test_a_user_who_blocked_the_bot_is_unreachable(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.user_blocks_bot(ANN)

    with pytest.raises(RecipientUnreachable, match="blocked"):
        await messenger.send(ChatId(ANN), OutgoingMessage("hello"))


async def test_a_user_who_never_started_the_bot_is_unreachable(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.add_user(2001, "Shy", started_bot=False)

    with pytest.raises(RecipientUnreachable, match="initiate conversation"):
        await messenger.send(ChatId(2001), OutgoingMessage("hello"))
    with pytest.raises(RecipientUnreachable, match=r"(?i)chat not found"):
        await messenger.send(ChatId(2999), OutgoingMessage("hello"))


async def test_a_deleted_channel_is_gone(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.remove_chat(CHANNEL)

    with pytest.raises(ChatGone, match=r"(?i)chat not found"):
        await messenger.send(ChatId(CHANNEL), OFFER)


async def test_a_channel_that_removed_the_bot_is_gone(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.set_bot_rights(CHANNEL, "kicked")

    with pytest.raises(ChatGone, match="kicked"):
        await messenger.send(ChatId(CHANNEL), OFFER)


async def test_posting_without_the_right_is_refused(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.set_bot_rights(CHANNEL, "administrator", ["can_invite_users"])

    with pytest.raises(NotEnoughRights, match="administrator rights"):
        await messenger.send(ChatId(CHANNEL), OFFER)
    assert emulator.messages(CHANNEL) == []


async def test_an_edit_replaces_text_and_buttons(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), OFFER)

    await messenger.edit(ChatId(CHANNEL), message_id, OutgoingMessage("Sold out"))

    (posted,) = emulator.messages(CHANNEL)
    assert (posted.text, posted.reply_markup) == ("Sold out", None)


async def test_an_edit_that_changes_nothing_is_not_an_error(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), OFFER)

    await messenger.edit(ChatId(CHANNEL), message_id, OFFER)

    (refused,) = emulator.rejected(400)
    assert refused.method == "editMessageText"
    assert (refused.description or "").startswith("Bad Request: message is not modified")
    assert emulator.messages(CHANNEL)[0].text == "Pick a tier"


async def test_editing_a_missing_message_is_not_found(messenger: TelegramMessenger) -> None:
    with pytest.raises(NotFound, match=r"(?i)message to edit not found"):
        await messenger.edit(ChatId(CHANNEL), MessageId(77), OFFER)


async def test_a_deleted_message_is_gone_and_deleting_again_is_fine(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    message_id = await messenger.send(ChatId(CHANNEL), OFFER)

    await messenger.delete(ChatId(CHANNEL), message_id)
    await messenger.delete(ChatId(CHANNEL), message_id)

    assert emulator.messages(CHANNEL) == []
    assert [c.ok for c in emulator.calls_to("deleteMessage")] == [True, False]


async def test_deleting_in_a_deleted_channel_is_gone(
    messenger: TelegramMessenger, emulator: TelegramEmulator
) -> None:
    emulator.remove_chat(CHANNEL)

    with pytest.raises(ChatGone):
        await messenger.delete(ChatId(CHANNEL), MessageId(1))
