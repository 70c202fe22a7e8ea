"""What a step of the demo's journey can do: act through the emulators and wait for
what PayGate does in return, read back from the emulators' records and the database.

The journey (:class:`~composition.demo.journey.Demo`) does not know where PayGate
runs. A :class:`Stage` is given the two emulators, a
:class:`~composition.demo.clock.TimeControl` and the database (a unit-of-work
factory), so the same script drives the in-process monolith of ``paygate demo`` and
a fleet of real ``web``/``bot``/``worker`` processes in the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from composition.demo.clock import TimeControl
from composition.demo.transcript import Transcript
from core.ports.repositories import UnitOfWorkFactory
from sandbox.nowpayments.emulator import NowPaymentsEmulator, PayPlan
from sandbox.telegram.model import Message
from sandbox.telegram.server import TelegramEmulator

STEP_TIMEOUT = 20.0


class DemoFailed(RuntimeError):
    """A step did not happen in time: the journey is broken."""


@attrs.define
class Stage:
    """The emulators, the clock, the transcript and the database a journey plays on.

    Works wherever the stack runs, as long as it talks to these emulators, its clock
    follows ``clock`` and ``database`` opens the database it writes to."""

    telegram: TelegramEmulator
    payments: NowPaymentsEmulator
    clock: TimeControl
    say: Transcript
    database: UnitOfWorkFactory
    invite_url: str = attrs.field(default="", init=False)

    async def until(self, check: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            await asyncio.sleep(0.05)
        raise DemoFailed(f"timed out waiting for: {what}")

    def messages_to(self, chat_id: int) -> list[Message]:
        return [m for m in self.telegram.messages(chat_id) if m.from_id == self.telegram.bot.id]

    def latest_with_button(
        self, chat_id: int, label: str, after: int = 0
    ) -> tuple[Message, dict[str, Any]] | None:
        for message in reversed(self.messages_to(chat_id)):
            if message.message_id <= after:
                break
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label.lower() in str(button.get("text", "")).lower():
                        return message, button
        return None

    def latest_text(self, chat_id: int, fragment: str) -> Message | None:
        for message in reversed(self.messages_to(chat_id)):
            if fragment.lower() in message.text.lower():
                return message
        return None

    def last_id(self, chat_id: int) -> int:
        messages = self.telegram.messages(chat_id)
        return messages[-1].message_id if messages else 0

    async def settle(self) -> None:
        """Until every effect queued so far has been carried out (the outbox is empty).

        The journey jumps days ahead only then: a dispatcher leases each message it
        sends, and a jump of days while a send is still being recorded would end
        that lease, so the next dispatch would send the message a second time."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            async with self.database() as tx:
                pending = await tx.outbox.pending_count()
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise DemoFailed(f"timed out waiting for the outbox to drain ({pending} left)")
            await asyncio.sleep(0.05)

    async def press(self, user: int, label: str, after: int = 0) -> None:
        found = await self.until(
            lambda: self.latest_with_button(user, label, after), f"a '{label}' button for {user}"
        )
        message, button = found
        self.telegram.user_presses(user, user, message.message_id, button["callback_data"])

    async def pay_latest_invoice(
        self, user: int, after: int, *, notified: bool = True, label: str = "Pay"
    ) -> str:
        """``notified=False``: every IPN of the payment is lost on the way; ``label``:
        the pay button's words in the user's language."""
        found = await self.until(
            lambda: self.latest_with_button(user, label, after), f"an invoice link for {user}"
        )
        url = str(found[1]["url"])
        invoice_id = parse_qs(urlsplit(url).query)["iid"][0]
        self.say.say(f"user {user}", f"opens the invoice {url} and pays it")
        plan = PayPlan()
        if not notified:
            plan = PayPlan(drop=frozenset(plan.statuses))
        await self.payments.pay(invoice_id, plan)
        return invoice_id


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""
