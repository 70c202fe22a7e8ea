"""The demo's journey: every step a person takes, in order, through the emulators
only (the people are in :mod:`composition.demo.people`, what a step can do in
:mod:`composition.demo.stage`)."""

from __future__ import annotations

from datetime import timedelta

import attrs

from composition.demo.people import (
    CLOSED_CHAT,
    DONOR,
    OPEN_CHAT,
    OWNER,
    REFUNDED,
    STARS_BUYER,
    STRANGER,
    SUBSCRIBER,
    TIERS,
)
from composition.demo.stage import DemoFailed, Stage, first_line
from core.domain.audit import verify_chain
from sandbox.telegram.stars import PayOutcome
from sandbox.telegram.world import JoinOutcome


@attrs.define
class Demo(Stage):
    """The scripted journey. People act only through the emulators; what PayGate did
    is read back from the emulators' records and, for the summary, from ``database``."""

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
        self.say.say("bot", first_line(reply.text))
        start = self.last_id(OWNER)
        tg.user_sends(OWNER, f"/tiers 1 {TIERS}")
        self.say.say("owner", f"/tiers 1 {TIERS}")
        reply = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > start), None),
            "the bot's answer to /tiers",
        )
        self.say.say("bot", first_line(reply.text))
        start = self.last_id(OWNER)
        tg.user_sends(OWNER, "/donations 1 1USD-500USD")
        self.say.say("owner", "/donations 1 1USD-500USD")
        reply = await self.until(
            lambda: next((m for m in self.messages_to(OWNER) if m.message_id > start), None),
            "the bot's answer to /donations",
        )
        self.say.say("bot", first_line(reply.text))

    async def offer_is_posted(self) -> str:
        found = await self.until(
            lambda: self.latest_with_button(OPEN_CHAT, "30 days"), "the offer in the open channel"
        )
        message, button = found
        self.say.say(
            "channel",
            f"offer posted: {first_line(message.text)} "
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
            self.say.say("bot", f"→ eve: {first_line(told.text)}")
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
        self.say.say("bot", f"removed sam from the closed channel; → sam: {first_line(ended.text)}")

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
        self.say.say("bot", f"→ dana: {first_line(keypad.text)}")
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
        self.say.say("bot", f"→ owner: {first_line(done.text)}")
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
