"""Both backends of the Telegram ports for the contract suites: the in-memory fakes,
and the real adapters talking to the local Bot API emulator over loopback.

Each backend is a harness: the two ports, plus a small set-up and inspection API
over the world they act in (chats, users, rights, links, what a chat shows), so one
suite per port can run unchanged against both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.catalog.message import Button, OutgoingMessage
from adapters.outbound.memory import InMemoryChatAccess, InMemoryMessenger
from adapters.outbound.memory.chat_access import LinkOutcome
from adapters.outbound.telegram import (
    PacedRateLimiter,
    PacingLimits,
    Rate,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.ports.telegram import ChatAccess, Messenger
from sandbox.telegram import FloodLimits, TelegramEmulator

__all__ = [
    "ANN",
    "BACKENDS",
    "BOB",
    "CHANNEL",
    "FAST",
    "FULL_RIGHTS",
    "OWNER",
    "LinkOutcome",
    "TelegramHarness",
]

CHANNEL = ChatId(-1001000000001)
"""The closed channel: the bot is an administrator with every right PayGate needs."""
OWNER = UserId(1000)
ANN = UserId(1001)
BOB = UserId(1002)

FULL_RIGHTS = ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_OPEN | BOT_RIGHTS_CLOSED)

# Pacing at real limits would make these tests wait seconds between two messages to
# one user; flood control has its own tests (unit, emulator, and 200 messages).
FAST = PacingLimits(
    overall=Rate(1000, 1.0),
    private_chat=Rate(1000, 1.0),
    group_chat=Rate(1000, 1.0),
    admin=None,
    max_retries=0,
)


class TelegramHarness(Protocol):
    messenger: Messenger
    access: ChatAccess
    now: datetime
    """What time the ChatAccess believes it is (whole seconds)."""

    def add_channel(self, chat_id: ChatId, bot: ChatRights = FULL_RIGHTS) -> None:
        """A channel with the bot in it, owned by OWNER."""
        ...

    def add_user(self, user_id: UserId, *, started_bot: bool = True) -> None: ...

    def set_member(self, chat_id: ChatId, user_id: UserId, rights: ChatRights) -> None: ...

    def set_bot_rights(self, chat_id: ChatId, rights: ChatRights) -> None: ...

    def delete_chat(self, chat_id: ChatId) -> None: ...

    def kick_bot(self, chat_id: ChatId) -> None:
        """An administrator threw the bot out of the chat."""
        ...

    def block_bot(self, user_id: UserId) -> None: ...

    def someone_deletes(self, chat_id: ChatId, message_id: MessageId) -> None:
        """An administrator deleted the message by hand (the bot is not told)."""
        ...

    def open_link(self, user_id: UserId, url: str) -> LinkOutcome:
        """The user opens an invite link in Telegram's app."""
        ...

    def status(self, chat_id: ChatId, user_id: UserId) -> MemberStatus: ...

    def pending(self, chat_id: ChatId) -> set[UserId]:
        """Users whose join requests wait for the bot."""
        ...

    def shown(self, chat_id: ChatId) -> list[tuple[MessageId, OutgoingMessage]]:
        """The chat's messages as a user sees them now, oldest first."""
        ...

    def link_name(self, url: str) -> str | None: ...


def _now() -> datetime:
    # Whole seconds: Telegram keeps times as seconds since the epoch. Real time,
    # because the emulator refuses a link that expires in its past.
    return datetime.now(UTC).replace(microsecond=0)


def _standard_world(harness: TelegramHarness) -> None:
    for user in (OWNER, ANN, BOB):
        harness.add_user(user)
    harness.add_channel(CHANNEL)


class MemoryTelegram:
    def __init__(self) -> None:
        self.now = _now()
        self.fake_messenger = InMemoryMessenger()
        self.fake_access = InMemoryChatAccess(now=lambda: self.now)
        self.messenger: Messenger = self.fake_messenger
        self.access: ChatAccess = self.fake_access

    def add_channel(self, chat_id: ChatId, bot: ChatRights = FULL_RIGHTS) -> None:
        self.fake_access.add_chat(chat_id, bot)
        self.fake_access.set_member(chat_id, OWNER, ChatRights(MemberStatus.CREATOR))
        self.fake_messenger.set_bot_rights(chat_id, bot)

    def add_user(self, user_id: UserId, *, started_bot: bool = True) -> None:
        if not started_bot:
            self.fake_messenger.never_started(user_id)

    def set_member(self, chat_id: ChatId, user_id: UserId, rights: ChatRights) -> None:
        self.fake_access.set_member(chat_id, user_id, rights)

    def set_bot_rights(self, chat_id: ChatId, rights: ChatRights) -> None:
        self.fake_access.set_bot_rights(chat_id, rights)
        self.fake_messenger.set_bot_rights(chat_id, rights)

    def delete_chat(self, chat_id: ChatId) -> None:
        self.fake_access.forget_chat(chat_id)
        self.fake_messenger.forget_chat(chat_id)

    def kick_bot(self, chat_id: ChatId) -> None:
        self.delete_chat(chat_id)  # to the bot, the same: it can do nothing there

    def block_bot(self, user_id: UserId) -> None:
        self.fake_messenger.block(user_id)

    def someone_deletes(self, chat_id: ChatId, message_id: MessageId) -> None:
        self.fake_messenger.someone_deletes(chat_id, message_id)

    def open_link(self, user_id: UserId, url: str) -> LinkOutcome:
        return self.fake_access.user_opens_link(user_id, url)

    def status(self, chat_id: ChatId, user_id: UserId) -> MemberStatus:
        return self.fake_access.status_of(chat_id, user_id)

    def pending(self, chat_id: ChatId) -> set[UserId]:
        return set(self.fake_access.pending_requests(chat_id))

    def shown(self, chat_id: ChatId) -> list[tuple[MessageId, OutgoingMessage]]:
        return [(m.message_id, m.message) for m in self.fake_messenger.visible(chat_id)]

    def link_name(self, url: str) -> str | None:
        return self.fake_access.link(url).name


class EmulatedTelegram:
    def __init__(self, emulator: TelegramEmulator, client: TelegramBotClient) -> None:
        self.now = _now()
        self.emulator = emulator
        self.messenger: Messenger = TelegramMessenger(client)
        self.access: ChatAccess = TelegramChatAccess(client, now=lambda: self.now)

    def add_channel(self, chat_id: ChatId, bot: ChatRights = FULL_RIGHTS) -> None:
        self.emulator.add_chat(
            chat_id,
            "channel",
            "Closed club",
            bot_status=str(bot.status),
            bot_rights=[str(r) for r in bot.rights],
            creator_id=OWNER,
        )

    def add_user(self, user_id: UserId, *, started_bot: bool = True) -> None:
        self.emulator.add_user(user_id, f"User {user_id}", started_bot=started_bot)

    def set_member(self, chat_id: ChatId, user_id: UserId, rights: ChatRights) -> None:
        self.emulator.set_member(
            chat_id, user_id, str(rights.status), [str(r) for r in rights.rights]
        )

    def set_bot_rights(self, chat_id: ChatId, rights: ChatRights) -> None:
        self.emulator.set_bot_rights(chat_id, str(rights.status), [str(r) for r in rights.rights])

    def delete_chat(self, chat_id: ChatId) -> None:
        self.emulator.remove_chat(chat_id)

    def kick_bot(self, chat_id: ChatId) -> None:
        self.emulator.set_bot_rights(chat_id, "kicked")

    def block_bot(self, user_id: UserId) -> None:
        self.emulator.user_blocks_bot(user_id)

    def someone_deletes(self, chat_id: ChatId, message_id: MessageId) -> None:
        self.emulator.admin_deletes_message(chat_id, message_id)

    def open_link(self, user_id: UserId, url: str) -> LinkOutcome:
        return LinkOutcome(str(self.emulator.user_opens_link(user_id, url)))

    def status(self, chat_id: ChatId, user_id: UserId) -> MemberStatus:
        return MemberStatus(str(self.emulator.status_of(chat_id, user_id)))

    def pending(self, chat_id: ChatId) -> set[UserId]:
        return {UserId(u) for u in self.emulator.pending_requests(chat_id)}

    def shown(self, chat_id: ChatId) -> list[tuple[MessageId, OutgoingMessage]]:
        return [
            (MessageId(m.message_id), OutgoingMessage(m.text, _buttons(m.reply_markup)))
            for m in self.emulator.messages(chat_id)
        ]

    def link_name(self, url: str) -> str | None:
        for chat in self.emulator.chats.values():
            link = chat.links.get(url)
            if link is not None:
                return link.name
        raise KeyError(url)


def _buttons(markup: dict[str, Any] | None) -> tuple[tuple[Button, ...], ...]:
    """An inline keyboard as Telegram shows it, back in the catalog's terms."""
    rows: list[list[dict[str, Any]]] = (markup or {}).get("inline_keyboard", [])
    return tuple(
        tuple(
            Button(b["text"], url=b.get("url"), callback_data=b.get("callback_data")) for b in row
        )
        for row in rows
    )


@asynccontextmanager
async def memory() -> AsyncIterator[TelegramHarness]:
    harness = MemoryTelegram()
    _standard_world(harness)
    yield harness


@asynccontextmanager
async def emulator() -> AsyncIterator[TelegramHarness]:
    async with TelegramEmulator(flood=FloodLimits.off()) as emu:
        client = TelegramBotClient(
            emu.token, api_url=emu.base_url, limiter=PacedRateLimiter(FAST), read_timeout=5.0
        )
        async with client:
            harness = EmulatedTelegram(emu, client)
            _standard_world(harness)
            yield harness


BACKENDS: dict[str, Callable[[], AbstractAsyncContextManager[TelegramHarness]]] = {
    "memory": memory,
    "emulator": emulator,
}
