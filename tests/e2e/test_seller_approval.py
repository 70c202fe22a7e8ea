"""A real ``paygate bot`` and ``paygate worker`` (long polling the Telegram emulator)
with ``PAYGATE_SELLERS=approval``: a stranger who tries to register a channel is told
the operators were asked; the operator gets the request with Approve and Decline,
approves it; the stranger is told, and registers their channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from adapters.catalog import texts
from adapters.catalog.notices import render
from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import load_config
from core.domain.ids import UserId
from core.domain.messages import SellerApproved
from core.domain.seller import SellerStatus
from core.services.seller_requests import Asked
from sandbox.telegram.model import Message
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in

OPERATOR, STRANGER = 7101, 7102
OPEN, CLOSED = -1_001_700_000_001, -1_001_700_000_002
REGISTER = f"/register {OPEN} {CLOSED} Stranger things"


async def _bot_message(
    telegram: TelegramEmulator,
    chat: int,
    wanted: Callable[[Message], bool],
    within: float = 30.0,
) -> Message:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in telegram.messages(chat):
            if message.from_id == telegram.bot.id and wanted(message):
                return message
        await asyncio.sleep(0.1)
    seen = [m.text for m in telegram.messages(chat)]
    raise AssertionError(
        f"no such message from the bot in chat {chat} within {within:.0f} s: {seen}"
    )


def _says(text: str) -> Callable[[Message], bool]:
    return lambda message: message.text == text


def _has_button(data: str) -> Callable[[Message], bool]:
    def has(message: Message) -> bool:
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        return any(button.get("callback_data") == data for row in rows for button in row)

    return has


async def test_a_stranger_asks_the_operator_approves_and_the_stranger_registers(
    tmp_path: Path,
) -> None:
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {
            "PAYGATE_OPERATOR_IDS": f"{OPERATOR}",
            "PAYGATE_SELLERS": "approval",
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        telegram = emulated.telegram
        telegram.add_user(OPERATOR, "Olga")
        telegram.add_user(STRANGER, "Sam", username="sam_sells")
        telegram.add_chat(OPEN, "channel", "Stranger open", creator_id=STRANGER)
        telegram.add_chat(CLOSED, "channel", "Stranger closed", creator_id=STRANGER)
        with fleet_in(tmp_path) as fleet:
            fleet.add("bot", "bot", env)
            fleet.add("worker", "worker", env)
            await fleet.start_all()

            telegram.user_sends(STRANGER, REGISTER)
            await _bot_message(telegram, STRANGER, _says(texts.seller_asked(Asked.SENT)))
            request = await _bot_message(telegram, OPERATOR, _has_button(f"sa:{STRANGER}"))
            asked = request.text  # the emulator edits the message in place when pressed
            telegram.user_presses(OPERATOR, OPERATOR, request.message_id, f"sa:{STRANGER}")
            decided = await _bot_message(
                telegram,
                OPERATOR,
                lambda m: m.message_id == request.message_id and not m.reply_markup,
            )
            await _bot_message(telegram, STRANGER, _says(render(SellerApproved()).text))
            telegram.user_sends(STRANGER, REGISTER)
            registered = await _bot_message(
                telegram, STRANGER, lambda m: m.text.startswith("Stranger things is registered")
            )
            codes = await fleet.stop_all()
            logs = fleet.logs()
        async with opened_store(config) as store, store.uow() as tx:
            channels = await tx.channels.by_owner(UserId(STRANGER))
            stored = await tx.sellers.get(UserId(STRANGER))
            actions = [(e.actor, e.action, e.subject) for e in await tx.audit.all()]
    assert codes == {"bot": 0, "worker": 0}, logs[-4000:]
    assert asked.startswith(f"Sam @sam_sells (Telegram user {STRANGER}) asks to sell")
    assert decided.text == (
        f"Sam @sam_sells (Telegram user {STRANGER}): approved by you. They have been told."
    )
    assert registered.text.splitlines()[0] == "Stranger things is registered as channel 1."
    assert [(c.open_chat_id, c.closed_chat_id) for c in channels] == [(OPEN, CLOSED)]
    assert stored is not None and (stored.status, stored.decided_by) == (
        SellerStatus.APPROVED,
        OPERATOR,
    )
    assert actions == [
        (f"user:{STRANGER}", "seller.requested", f"user:{STRANGER}"),
        (f"user:{OPERATOR}", "seller.approved", f"user:{STRANGER}"),
        (f"user:{STRANGER}", "channel.registered", f"channel:{channels[0].id}"),
    ]
