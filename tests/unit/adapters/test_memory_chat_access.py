"""What the chat access fake adds for tests: deterministic links, recorded calls,
scripted failures and set-up helpers. Its behaviour as a ChatAccess (the same as the
Telegram adapter's) is the contract suite's, in tests/contract/telegram."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.memory import FrozenClock, InMemoryChatAccess
from adapters.outbound.memory.chat_access import ChatAction, ChatCall, LinkOutcome
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.rights import ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone, NotEnoughRights, Unavailable

CLOSED = ChatId(-1002000000001)
PAYER = UserId(1001)
STRANGER = UserId(2002)


@pytest.fixture
def access() -> InMemoryChatAccess:
    fake = InMemoryChatAccess()
    fake.add_chat(CLOSED)
    return fake


async def test_a_join_request_link_lets_in_only_the_approved_user(
    access: InMemoryChatAccess,
) -> None:
    link = await access.create_invite_link(CLOSED, "sub su01 p1", GrantMode.JOIN_REQUEST, None)
    access.request_join(CLOSED, PAYER, link.url)
    access.request_join(CLOSED, STRANGER, link.url)

    await access.approve_join_request(CLOSED, PAYER)
    await access.decline_join_request(CLOSED, STRANGER)

    assert access.is_member(CLOSED, PAYER)
    assert not access.is_member(CLOSED, STRANGER)
    assert access.pending_requests(CLOSED) == frozenset()
    assert access.calls == [
        ChatCall(ChatAction.APPROVE, CLOSED, PAYER),
        ChatCall(ChatAction.DECLINE, CLOSED, STRANGER),
    ]


async def test_answering_a_request_twice_is_not_an_error(access: InMemoryChatAccess) -> None:
    link = await access.create_invite_link(CLOSED, "grant", GrantMode.JOIN_REQUEST, None)
    access.request_join(CLOSED, PAYER, link.url)

    await access.approve_join_request(CLOSED, PAYER)
    await access.approve_join_request(CLOSED, PAYER)

    assert access.is_member(CLOSED, PAYER)
    assert [c.action for c in access.calls] == [ChatAction.APPROVE, ChatAction.APPROVE]


async def test_links_are_deterministic_and_remember_their_mode_and_expiry(
    access: InMemoryChatAccess,
) -> None:
    expires = datetime(2025, 3, 2, 12, tzinfo=UTC)

    first = await access.create_invite_link(CLOSED, "a", GrantMode.JOIN_REQUEST, None)
    second = await access.create_invite_link(CLOSED, "b", GrantMode.ONE_USE_LINK, expires)

    assert first.url == "https://t.me/+j1002000000001n1"
    assert (second.url, second.expires_at) == ("https://t.me/+o1002000000001n2", expires)
    assert [(link.name, link.mode) for link in access.links] == [
        ("a", GrantMode.JOIN_REQUEST),
        ("b", GrantMode.ONE_USE_LINK),
    ]


async def test_a_one_use_link_admits_one_person(access: InMemoryChatAccess) -> None:
    link = await access.create_invite_link(CLOSED, "fallback", GrantMode.ONE_USE_LINK, None)

    assert access.join_with_link(CLOSED, PAYER, link.url) is True
    assert access.join_with_link(CLOSED, STRANGER, link.url) is False
    assert not access.is_member(CLOSED, STRANGER)


async def test_a_revoked_link_admits_nobody_and_an_unknown_one_is_revoked_already(
    access: InMemoryChatAccess,
) -> None:
    link = await access.create_invite_link(CLOSED, "fallback", GrantMode.ONE_USE_LINK, None)
    await access.revoke_invite_link(CLOSED, link.url)
    await access.revoke_invite_link(CLOSED, "https://t.me/+never")

    assert access.join_with_link(CLOSED, PAYER, link.url) is False
    assert [k.revoked for k in access.links] == [True]


async def test_removing_a_member_is_idempotent_and_recorded(access: InMemoryChatAccess) -> None:
    access.set_member(CLOSED, PAYER, ChatRights(MemberStatus.MEMBER))

    await access.remove_member(CLOSED, PAYER)
    await access.remove_member(CLOSED, PAYER)

    assert not access.is_member(CLOSED, PAYER)
    assert (await access.rights(CLOSED, PAYER)).status is MemberStatus.LEFT
    assert access.calls == [ChatCall(ChatAction.REMOVE, CLOSED, PAYER)] * 2


async def test_an_administrator_cannot_be_removed(access: InMemoryChatAccess) -> None:
    access.set_member(CLOSED, PAYER, ChatRights(MemberStatus.ADMINISTRATOR))

    with pytest.raises(NotEnoughRights):
        await access.remove_member(CLOSED, PAYER)


CALLS_NEEDING: list[tuple[Right, Callable[[InMemoryChatAccess], Awaitable[object]]]] = [
    (Right.INVITE_USERS, lambda a: a.create_invite_link(CLOSED, "x", GrantMode.JOIN_REQUEST, None)),
    (Right.INVITE_USERS, lambda a: a.revoke_invite_link(CLOSED, "https://t.me/+x")),
    (Right.INVITE_USERS, lambda a: a.approve_join_request(CLOSED, PAYER)),
    (Right.INVITE_USERS, lambda a: a.decline_join_request(CLOSED, PAYER)),
    (Right.RESTRICT_MEMBERS, lambda a: a.remove_member(CLOSED, PAYER)),
]


@pytest.mark.parametrize(
    ("missing", "call"),
    CALLS_NEEDING,
    ids=["link", "revoke", "approve", "decline", "remove"],
)
async def test_the_bot_needs_the_right_each_call_uses(
    access: InMemoryChatAccess,
    missing: Right,
    call: Callable[[InMemoryChatAccess], Awaitable[object]],
) -> None:
    every = frozenset(Right)
    access.set_bot_rights(CLOSED, ChatRights(MemberStatus.ADMINISTRATOR, every - {missing}))

    with pytest.raises(NotEnoughRights):
        await call(access)
    assert access.calls == []


async def test_a_bot_that_is_no_longer_admin_can_do_nothing(access: InMemoryChatAccess) -> None:
    access.set_bot_rights(CLOSED, ChatRights(MemberStatus.MEMBER, frozenset(Right)))

    with pytest.raises(NotEnoughRights):
        await access.create_invite_link(CLOSED, "x", GrantMode.JOIN_REQUEST, None)


async def test_an_unknown_or_forgotten_chat_is_gone(access: InMemoryChatAccess) -> None:
    with pytest.raises(ChatGone):
        await access.bot_rights(ChatId(-100999))
    access.forget_chat(CLOSED)

    with pytest.raises(ChatGone):
        await access.rights(CLOSED, PAYER)
    with pytest.raises(ChatGone):
        await access.remove_member(CLOSED, PAYER)


async def test_the_bots_rights_and_a_strangers_status_are_reported(
    access: InMemoryChatAccess,
) -> None:
    bot = await access.bot_rights(CLOSED)

    assert bot.is_admin
    assert bot.has(Right.INVITE_USERS) and bot.has(Right.RESTRICT_MEMBERS)
    assert (await access.rights(CLOSED, STRANGER)).status is MemberStatus.LEFT


async def test_armed_failures_come_first_then_calls_succeed(access: InMemoryChatAccess) -> None:
    access.fail_next(2, retry_after=3.0)

    for _ in range(2):
        with pytest.raises(Unavailable) as caught:
            await access.approve_join_request(CLOSED, PAYER)
        assert caught.value.retry_after == 3.0
    await access.approve_join_request(CLOSED, PAYER)

    assert access.calls == [ChatCall(ChatAction.APPROVE, CLOSED, PAYER)]


async def test_link_names_are_cut_to_32_characters_as_telegram_does(
    access: InMemoryChatAccess,
) -> None:
    link = await access.create_invite_link(CLOSED, "x" * 33, GrantMode.JOIN_REQUEST, None)

    assert access.link(link.url).name == "x" * 32


async def test_a_one_use_link_lasts_one_use_ttl_from_the_given_clock() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC))
    access = InMemoryChatAccess(one_use_ttl=timedelta(hours=6), now=clock.now)
    access.add_chat(CLOSED)

    link = await access.create_invite_link(CLOSED, "n", GrantMode.ONE_USE_LINK, None)
    joins = await access.create_invite_link(CLOSED, "j", GrantMode.JOIN_REQUEST, None)

    assert link.expires_at == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)  # whole seconds
    assert joins.expires_at is None


async def test_requesting_to_join_with_a_link_that_takes_no_requests_is_a_test_mistake(
    access: InMemoryChatAccess,
) -> None:
    one_use = await access.create_invite_link(CLOSED, "o", GrantMode.ONE_USE_LINK, None)
    joins = await access.create_invite_link(CLOSED, "j", GrantMode.JOIN_REQUEST, None)
    await access.revoke_invite_link(CLOSED, joins.url)

    with pytest.raises(ValueError, match="no join-request link"):
        access.request_join(CLOSED, PAYER, one_use.url)
    with pytest.raises(ValueError, match="link_invalid"):
        access.request_join(CLOSED, PAYER, joins.url)
    assert access.pending_requests(CLOSED) == frozenset()


async def test_opening_a_link_tells_what_telegram_would_show(access: InMemoryChatAccess) -> None:
    joins = await access.create_invite_link(CLOSED, "j", GrantMode.JOIN_REQUEST, None)
    access.set_member(CLOSED, STRANGER, ChatRights(MemberStatus.KICKED))

    assert access.user_opens_link(PAYER, joins.url) is LinkOutcome.REQUESTED
    assert access.user_opens_link(PAYER, joins.url) is LinkOutcome.REQUEST_PENDING
    assert access.user_opens_link(STRANGER, joins.url) is LinkOutcome.BANNED
    assert access.user_opens_link(PAYER, "https://t.me/+never") is LinkOutcome.LINK_INVALID
    assert access.status_of(CLOSED, STRANGER) is MemberStatus.KICKED
