"""What the messenger fake adds for tests: records of every call, what a chat shows,
scripted failures and set-up helpers. Its behaviour as a Messenger (the same as the
Telegram adapter's) is the contract suite's, in tests/contract/telegram."""

from __future__ import annotations

import pytest

from adapters.catalog.notices import render
from adapters.outbound.memory import InMemoryMessenger
from adapters.outbound.memory.messenger import PostedMessage
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import Verbatim, VerbatimButton
from core.domain.rights import ChatRights, MemberStatus
from core.ports.errors import PortError
from core.ports.telegram import (
    ChatGone,
    MessageGone,
    NotEnoughRights,
    RecipientUnreachable,
    Unavailable,
)

OPEN = ChatId(-1001000000001)
USER = UserId(1001)
OFFER = Verbatim("Pick a tier", ((VerbatimButton("1 month", url="https://t.me/b?start=x"),),))
NEW_OFFER = Verbatim("Pick a tier (new prices)")


async def test_message_ids_count_up_per_chat() -> None:
    messenger = InMemoryMessenger()

    ids = [
        await messenger.send(OPEN, OFFER),
        await messenger.send(OPEN, OFFER),
        await messenger.send(ChatId(USER), OFFER),
    ]

    assert ids == [MessageId(1), MessageId(2), MessageId(1)]
    assert [m.chat_id for m in messenger.sent] == [OPEN, OPEN, ChatId(USER)]


async def test_what_a_chat_shows_follows_edits_and_deletions() -> None:
    messenger = InMemoryMessenger()
    old = await messenger.send(OPEN, OFFER)
    kept = await messenger.send(OPEN, OFFER)

    await messenger.edit(OPEN, kept, NEW_OFFER)
    await messenger.delete(OPEN, old)

    assert messenger.visible(OPEN) == [PostedMessage(OPEN, kept, render(NEW_OFFER))]
    assert messenger.edits == [PostedMessage(OPEN, kept, render(NEW_OFFER))]
    assert messenger.deletions == [(OPEN, old)]


async def test_deleting_a_message_that_is_gone_is_not_an_error() -> None:
    messenger = InMemoryMessenger()
    sent = await messenger.send(OPEN, OFFER)
    await messenger.delete(OPEN, sent)

    await messenger.delete(OPEN, sent)
    await messenger.delete(OPEN, MessageId(99))

    assert messenger.deletions == [(OPEN, sent)]


async def test_editing_a_message_that_never_existed_is_message_gone() -> None:
    with pytest.raises(MessageGone):
        await InMemoryMessenger().edit(OPEN, MessageId(5), NEW_OFFER)


async def test_a_user_who_blocked_the_bot_is_unreachable_until_unblocked() -> None:
    messenger = InMemoryMessenger()
    messenger.block(USER)

    with pytest.raises(RecipientUnreachable):
        await messenger.send(ChatId(USER), OFFER)
    assert messenger.sent == []
    messenger.unblock(USER)

    assert await messenger.send(ChatId(USER), OFFER) == MessageId(1)


async def test_flood_control_tells_how_long_to_wait_for_the_next_calls_only() -> None:
    messenger = InMemoryMessenger()
    messenger.fail_next(2, retry_after=7.0)

    for _ in range(2):
        with pytest.raises(Unavailable) as caught:
            await messenger.send(OPEN, OFFER)
        assert caught.value.retry_after == 7.0

    assert await messenger.send(OPEN, OFFER) == MessageId(1)
    assert len(messenger.sent) == 1


async def test_refused_calls_leave_no_record_and_other_chats_stay_open() -> None:
    messenger = InMemoryMessenger()
    shy, gone = UserId(2001), ChatId(-1009)
    messenger.never_started(shy)
    messenger.forget_chat(gone)
    messenger.set_bot_rights(OPEN, ChatRights(MemberStatus.ADMINISTRATOR))

    with pytest.raises(RecipientUnreachable, match="initiate"):
        await messenger.send(ChatId(shy), OFFER)
    with pytest.raises(ChatGone):
        await messenger.send(gone, OFFER)
    with pytest.raises(NotEnoughRights):
        await messenger.send(OPEN, OFFER)
    with pytest.raises(PortError, match="text is empty"):
        await messenger.send(ChatId(USER), Verbatim(" "))

    assert messenger.sent == []
    assert await messenger.send(ChatId(USER), OFFER) == MessageId(1)
