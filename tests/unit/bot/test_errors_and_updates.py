"""What people read for each kind of failure, and how Telegram objects are read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import ChatMemberAdministrator, ChatMemberLeft, ChatMemberOwner, Message, User
from telegram.error import NetworkError, TimedOut

from adapters.inbound.telegram.errors import SlowDown, describe
from adapters.inbound.telegram.updates import chat_rights, forwarded_chat_id
from core.domain.errors import InvalidAmount, InvalidToken, NotAuthorized, Why
from core.domain.money import Money
from core.domain.rights import ChatRights, MemberStatus, Right
from core.ports.errors import Unavailable
from core.ports.payments import ProviderRejected

BOT = User(42, "PayGate", is_bot=True)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (InvalidToken(Why.OFFER_INVALID), "This link is not a valid offer."),
        (
            InvalidAmount(Why.DONATION_ABOVE, most=Money("500", "USD")),
            "The largest donation is 500 USD.",
        ),
        (SlowDown("Please wait."), "Please wait."),
        (
            NotAuthorized(Why.NOT_OWNER),
            "Only the channel's owner can change it.",
        ),
        (
            Unavailable("db down", retry_after=3),
            "I cannot reach a service I need right now. Please try again in a minute.",
        ),
        (
            TimedOut(),
            "I cannot reach a service I need right now. Please try again in a minute.",
        ),
        (
            NetworkError("connection reset"),
            "I cannot reach a service I need right now. Please try again in a minute.",
        ),
        (
            ProviderRejected("401 invalid api key"),
            "The payment provider would not create an invoice just now. Please try again later.",
        ),
        (
            KeyError("secret internals"),
            "Sorry, something went wrong on my side. Please try again in a little while.",
        ),
    ],
)
def test_each_failure_has_one_sentence_for_people(error: BaseException, text: str) -> None:
    assert describe(error) == text


def test_an_administrators_rights_are_read_into_the_domain() -> None:
    member = ChatMemberAdministrator(
        BOT,
        can_be_edited=False,
        is_anonymous=False,
        can_manage_chat=True,
        can_delete_messages=True,
        can_manage_video_chats=False,
        can_restrict_members=True,
        can_promote_members=False,
        can_change_info=False,
        can_invite_users=False,
        can_post_stories=False,
        can_edit_stories=False,
        can_delete_stories=False,
        can_post_messages=True,
    )

    assert chat_rights(member) == ChatRights(
        MemberStatus.ADMINISTRATOR,
        frozenset({Right.DELETE_MESSAGES, Right.RESTRICT_MEMBERS, Right.POST_MESSAGES}),
    )


def test_an_owner_and_a_departed_member_carry_no_listed_rights() -> None:
    assert chat_rights(ChatMemberOwner(BOT, is_anonymous=False)) == ChatRights(MemberStatus.CREATOR)
    assert chat_rights(ChatMemberLeft(BOT)) == ChatRights(MemberStatus.LEFT)


def message(extra: dict[str, object]) -> Message:
    data = {
        "message_id": 7,
        "date": int(datetime(2026, 3, 1, tzinfo=UTC).timestamp()),
        "chat": {"id": 1000, "type": "private", "first_name": "Olivia"},
        "from": {"id": 1000, "is_bot": False, "first_name": "Olivia"},
        "text": "hello",
        **extra,
    }
    return Message.de_json(data, None)


def test_a_message_forwarded_from_a_channel_names_the_channel() -> None:
    forwarded = message(
        {
            "forward_origin": {
                "type": "channel",
                "date": 0,
                "chat": {"id": -1001234, "type": "channel", "title": "Alpha"},
                "message_id": 3,
            }
        }
    )

    assert forwarded_chat_id(forwarded) == -1001234


def test_a_message_forwarded_from_a_person_or_not_at_all_names_no_chat() -> None:
    from_person = message(
        {
            "forward_origin": {
                "type": "user",
                "date": 0,
                "sender_user": {"id": 5, "is_bot": False, "first_name": "Sam"},
            }
        }
    )

    assert forwarded_chat_id(from_person) is None
    assert forwarded_chat_id(message({})) is None
