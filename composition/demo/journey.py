"""The demo's journey: the people and channels it starts from, and every step a
person takes, through the emulators only.

The journey (:class:`Demo`) does not know where PayGate runs. It is given the two
emulators, a :class:`~composition.demo.clock.TimeControl` and the database (a
unit-of-work factory), so the same script drives the in-process monolith of
``paygate demo`` and a fleet of real ``web``/``bot``/``worker`` processes in the
end-to-end tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from composition.demo.clock import TimeControl
from composition.demo.transcript import Transcript
from core.domain.audit import verify_chain
from core.ports.repositories import UnitOfWorkFactory
from sandbox.nowpayments.emulator import NowPaymentsEmulator, PayPlan
from sandbox.telegram.model import Message
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.stars import PayOutcome
from sandbox.telegram.world import JoinOutcome

OWNER = 1001
SUBSCRIBER = 2001
STRANGER = 2002
DONOR = 2003
REFUNDED = 2004
STARS_BUYER = 2005
OPEN_CHAT = -1001000000001
CLOSED_CHAT = -1001000000002
STEP_TIMEOUT = 20.0
TIERS = "1=10USD/30d 2=25USD+1200XTR/90d"
"""Tier 2 sells for crypto or for 1200 Telegram Stars."""


class DemoFailed(RuntimeError):
    """A step did not happen in time: the journey is broken."""


def set_up_world(telegram: TelegramEmulator, say: Transcript) -> None:
    """The people and channels of the journey, as they exist before PayGate starts:
    an owner who made two channels with the bot as admin, a subscriber, a stranger
    and a donor whose Telegram app speaks Spanish (she reads the bot in Spanish)."""
    telegram.add_user(OWNER, "Olivia", username="olivia")
    telegram.add_user(SUBSCRIBER, "Sam", username="sam")
    telegram.add_user(STRANGER, "Eve", username="eve")
    telegram.add_user(DONOR, "Dana", username="dana", language_code="es")
    telegram.add_user(REFUNDED, "Rob", username="rob")
    telegram.add_user(STARS_BUYER, "Stella", username="stella")
    telegram.add_chat(
        OPEN_CHAT, "channel", "Alpha Signals", username="alpha_signals", creator_id=OWNER
    )
    telegram.add_chat(CLOSED_CHAT, "channel", "Alpha Signals VIP", creator_id=OWNER)
    say.say(
        "setup",
        "Telegram emulator: owner @olivia made two channels and the bot an admin of both",
    )


@attrs.define
class Demo:
    """The scripted journey. People act only through the emulators; what PayGate did
    is read back from the emulators' records and, for the summary, from ``database``.

    Works wherever the stack runs, as long as it talks to these emulators, its clock
    follows ``clock`` and ``database`` opens the database it writes to."""

    telegram: TelegramEmulator
    payments: NowPaymentsEmulator
    clock: TimeControl
    say: Transcript
    database: UnitOfWorkFactory
    invite_url: str = attrs.field(default="", init=False)

    # ---------------------------------------------------------------- helpers
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

    # ---------------------------------------------------------------- journey
    async def play(self) -> None:
        """Every step after the world is set up and PayGate has started, in order;
        raises DemoFailed at the first one that does not happen in time."""
        await self.owner_registers()
        token = await self.offer_is_posted()
        await self.subscriber_buys(token)
        await self.join_and_stranger()
        await self.reminder_and_renewal()
        await self.expiry()
        await self.donation()
        await self.refund(token)
        await self.paid_in_stars()
        await self.summary()

    async def owner_registers(self) -> None:
        tg = self.telegram
        start = self.last_id(OWNER)
        tg.user_sends(OWNER, f"/register {OPEN_CHAT} {CLOSED_CHAT} Alpha Signals")
        self.say.say("owner", f"/register {OPEN_CHAT} {CLOSED_CHAT} Alpha Signals")
        reply = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > start), None),
            "the bot's answer to /register",
        )
        self.say.say("bot", _first_line(reply.text))
        start = self.last_id(OWNER)
        tg.user_sends(OWNER, f"/tiers 1 {TIERS}")
        self.say.say("owner", f"/tiers 1 {TIERS}")
        reply = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > start), None),
            "the bot's answer to /tiers",
        )
        self.say.say("bot", _first_line(reply.text))
        start = self.last_id(OWNER)
        tg.user_sends(OWNER, "/donations 1 1USD-500USD")
        self.say.say("owner", "/donations 1 1USD-500USD")
        reply = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > start), None),
            "the bot's answer to /donations",
        )
        self.say.say("bot", _first_line(reply.text))

    async def offer_is_posted(self) -> str:
        found = await self.until(
            lambda: self.latest_with_button(OPEN_CHAT, "30 days"), "the offer in the open channel"
        )
        message, button = found
        self.say.say(
            "channel",
            f"offer posted: {_first_line(message.text)} "
            f"[{len((message.reply_markup or {}).get('inline_keyboard', []))} tiers]",
        )
        url: str = button["url"]
        return url.split("?start=", 1)[1]

    async def subscriber_buys(self, token: str) -> None:
        tg = self.telegram
        start = self.last_id(SUBSCRIBER)
        tg.user_sends(SUBSCRIBER, f"/start {token}")
        self.say.say("sam", "taps '30 days — 10 USD' (opens the bot with /start <token>)")
        await self.press(SUBSCRIBER, "Confirm", start)
        self.say.say("sam", "confirms")
        await self.pay_latest_invoice(SUBSCRIBER, start)
        invite = await self.until(
            lambda: self.latest_with_button(SUBSCRIBER, "Join", start), "the personal invite link"
        )
        self.say.say("bot", f"→ sam: payment confirmed, personal link {invite[1]['url']}")
        owner_note = await self.until(
            lambda: self.latest_text(OWNER, "New subscription"), "the owner's notification"
        )
        self.say.say("bot", f"→ owner: {owner_note.text}")
        self.invite_url = invite[1]["url"]

    async def join_and_stranger(self) -> None:
        tg = self.telegram
        outcome = tg.user_opens_link(SUBSCRIBER, self.invite_url)
        self.say.say("sam", f"opens his link: {outcome}")
        await self.until(lambda: tg.status_of(CLOSED_CHAT, SUBSCRIBER) == "member", "sam admitted")
        self.say.say("bot", "approved sam's join request: sam is a member")
        outcome = tg.user_opens_link(STRANGER, self.invite_url)
        self.say.say("eve", f"opens the same (forwarded) link: {outcome}")
        if outcome is JoinOutcome.REQUESTED:
            # The bot tells eve why first, and declines a few seconds later.
            told = await self.until(
                lambda: self.latest_text(STRANGER, "no active subscription"), "eve told why"
            )
            self.say.say("bot", f"→ eve: {_first_line(told.text)}")
            self.clock.advance(timedelta(seconds=15))
            await self.until(
                lambda: STRANGER not in tg.pending_requests(CLOSED_CHAT), "eve's request answered"
            )
        if tg.status_of(CLOSED_CHAT, STRANGER) == "member":
            raise DemoFailed("the stranger got in")
        self.say.say("bot", "declined eve: the link belongs to someone else's subscription")

    async def reminder_and_renewal(self) -> None:
        await self.settle()
        self.clock.advance(timedelta(days=27, hours=1))
        self.say.say("clock", "27 days later")
        reminder = await self.until(
            lambda: self.latest_with_button(SUBSCRIBER, "Renew"), "the reminder"
        )
        self.say.say("bot", f"→ sam: {reminder[0].text}")
        start = self.last_id(SUBSCRIBER)
        self.telegram.user_presses(
            SUBSCRIBER, SUBSCRIBER, reminder[0].message_id, reminder[1]["callback_data"]
        )
        self.say.say("sam", "presses Renew")
        await self.press(SUBSCRIBER, "Confirm", start)
        await self.pay_latest_invoice(SUBSCRIBER, start, notified=False)
        self.say.say("nowpayments", "every notification of the renewal is lost on the way")
        await self.settle()
        self.clock.advance(timedelta(minutes=31))
        self.say.say("clock", "31 minutes later: reconciliation asks NowPayments for the invoice")
        renewed = await self.until(
            lambda: self.latest_text(SUBSCRIBER, "now runs until"), "the renewal"
        )
        self.say.say("bot", f"→ sam: {renewed.text}")

    async def expiry(self) -> None:
        await self.settle()
        self.clock.advance(timedelta(days=34))
        self.say.say("clock", "34 more days: sam's paid time is over")
        await self.until(
            lambda: self.telegram.status_of(CLOSED_CHAT, SUBSCRIBER) != "member", "sam removed"
        )
        ended = await self.until(
            lambda: self.latest_text(SUBSCRIBER, "has ended"), "the end notice"
        )
        self.say.say(
            "bot", f"removed sam from the closed channel; → sam: {_first_line(ended.text)}"
        )

    async def donation(self) -> None:
        donate = await self.until(
            lambda: self.latest_with_button(CLOSED_CHAT, "Donate"), "the Donate button"
        )
        token = donate[1]["url"].split("?start=", 1)[1]
        start = self.last_id(DONOR)
        self.telegram.user_sends(DONOR, f"/start {token}")
        self.say.say(
            "dana",
            "taps Donate in the closed channel (a private chat with the bot opens; "
            "her Telegram app speaks Spanish)",
        )
        keypad = await self.until(
            lambda: self.latest_text(DONOR, "Apoya a"), "the keypad, in Spanish"
        )
        self.say.say("bot", f"→ dana: {_first_line(keypad.text)}")
        await self.press(DONOR, "5", start)
        self.say.say("dana", "chooses 5 USD on the keypad")
        await self.pay_latest_invoice(DONOR, start, label="Pagar")
        thanks = await self.until(lambda: self.latest_text(DONOR, "Gracias"), "the thank-you")
        self.say.say("bot", f"→ dana: {thanks.text}")
        note = await self.until(
            lambda: self.latest_text(OWNER, "Donation to"), "the owner's donation notice"
        )
        self.say.say("bot", f"→ owner: {note.text}")

    async def refund(self, token: str) -> None:
        """Rob pays and gets in; then the provider refunds him: the time he paid for is
        taken back, he is removed, and he and the owner are told."""
        tg = self.telegram
        start = self.last_id(REFUNDED)
        tg.user_sends(REFUNDED, f"/start {token}")
        self.say.say("rob", "taps '30 days — 10 USD' and confirms")
        await self.press(REFUNDED, "Confirm", start)
        invoice_id = await self.pay_latest_invoice(REFUNDED, start)
        invite = await self.until(
            lambda: self.latest_with_button(REFUNDED, "Join", start), "rob's personal link"
        )
        tg.user_opens_link(REFUNDED, str(invite[1]["url"]))
        await self.until(lambda: tg.status_of(CLOSED_CHAT, REFUNDED) == "member", "rob admitted")
        self.say.say("bot", "approved rob's join request: rob is a member")
        await self.settle()
        (payment,) = [p for p in self.payments.payments.values() if p.invoice.id == invoice_id]
        await self.payments.refund(str(payment.payment_id))
        self.say.say("nowpayments", "reports rob's payment refunded")
        await self.until(
            lambda: tg.status_of(CLOSED_CHAT, REFUNDED) != "member", "rob removed after the refund"
        )
        told = await self.until(lambda: self.latest_text(REFUNDED, "was refunded"), "rob told")
        self.say.say("bot", f"removed rob from the closed channel; → rob: {told.text}")
        note = await self.until(lambda: self.latest_text(OWNER, "Refund in"), "the owner told")
        self.say.say("bot", f"→ owner: {note.text}")

    async def paid_in_stars(self) -> None:
        """Stella pays tier 2 in Telegram Stars: the bot answers Telegram's pre-checkout
        query, and the payment lets her in; then the owner refunds her with /refund,
        and she is removed."""
        tg = self.telegram
        found = await self.until(
            lambda: self.latest_with_button(OPEN_CHAT, "90 days"), "tier 2 in the offer"
        )
        token = str(found[1]["url"]).split("?start=", 1)[1]
        start = self.last_id(STARS_BUYER)
        tg.user_sends(STARS_BUYER, f"/start {token}")
        self.say.say("stella", "taps '90 days — 25 USD or 1200 XTR'")
        await self.press(STARS_BUYER, "Pay 1200", start)
        self.say.say("stella", "chooses to pay in Telegram Stars")
        link = await self.until(
            lambda: self.latest_with_button(STARS_BUYER, "Pay now", start), "the Stars invoice"
        )
        paid = await tg.user_pays(STARS_BUYER, str(link[1]["url"]))
        if paid.outcome is not PayOutcome.PAID or paid.charge_id is None:
            raise DemoFailed(f"the Stars payment did not go through: {paid.to_json()}")
        self.say.say("telegram", "the bot said yes to the pre-checkout query: 1200 Stars paid")
        invite = await self.until(
            lambda: self.latest_with_button(STARS_BUYER, "Join", start), "stella's personal link"
        )
        tg.user_opens_link(STARS_BUYER, str(invite[1]["url"]))
        await self.until(
            lambda: tg.status_of(CLOSED_CHAT, STARS_BUYER) == "member", "stella admitted"
        )
        self.say.say("bot", "approved stella's join request: stella is a member")
        await self.settle()
        before = self.last_id(OWNER)
        tg.user_sends(OWNER, f"/refund {paid.charge_id} she asked for her Stars back")
        self.say.say("owner", "/refund <stella's charge id> she asked for her Stars back")
        done = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > before), None),
            "the bot's answer to /refund",
        )
        self.say.say("bot", f"→ owner: {_first_line(done.text)}")
        await self.until(
            lambda: tg.status_of(CLOSED_CHAT, STARS_BUYER) != "member", "stella removed"
        )
        told = await self.until(
            lambda: self.latest_text(STARS_BUYER, "was refunded"), "stella told"
        )
        self.say.say("bot", f"removed stella from the closed channel; → stella: {told.text}")

    async def summary(self) -> None:
        async with self.database() as tx:
            channels = await tx.channels.all()
            subs = [s for c in channels for s in await tx.subscriptions.for_channel(c.id)]
            donations = [d for c in channels for d in await tx.donations.for_channel(c.id)]
            chain = await tx.audit.all()
        self.say.say(
            "summary",
            f"channels {len(channels)}, subscriptions {len(subs)}, donations {len(donations)}",
        )
        self.say.say(
            "summary",
            f"IPNs delivered {len(self.payments.deliveries)}, "
            f"Bot API calls {len(self.telegram.calls)}",
        )
        self.say.say("summary", f"audit events {len(chain)}, chain intact: {verify_chain(chain)}")


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""
