"""A Telegram Stars subscription across real processes (web + worker, Telegram
pushing updates to the web process, one SQLite database): the owner sells a tier
``+auto``; a subscriber pays the first month in Stars and joins; Telegram renews it
once, and the renewal's update is delivered twice, yet the subscription is extended
exactly once from its end; the subscriber cancels with /stoprenewal (Telegram then
renews nothing), keeps access to the end, and the sweep removes them after it."""

from __future__ import annotations

import copy
import io
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from composition.assembly import opened_store
from composition.config import load_config
from composition.demo.clock import SharedClockFile
from composition.demo.people import CLOSED_CHAT, OPEN_CHAT, OWNER, STARS_BUYER, set_up_world
from composition.demo.stage import DemoFailed, Stage, first_line
from composition.demo.transcript import Transcript
from core.domain.ids import UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from sandbox.telegram.stars import SUBSCRIPTION_PERIOD, PayOutcome
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_journey_processes import WEBHOOK_SECRET, migrated_database

TIERS = "1=10USD+500XTR/30d+auto"


@attrs.define
class StarsSubscriptionJourney(Stage):
    charge_id: str = attrs.field(default="", init=False)

    async def owner_sells_a_renewing_tier(self) -> str:
        tg = self.telegram
        for command in (f"/register {OPEN_CHAT} {CLOSED_CHAT} Alpha Signals", f"/tiers 1 {TIERS}"):
            start = self.last_id(OWNER)
            tg.user_sends(OWNER, command)
            reply = await self.reply_after(OWNER, start, f"the bot's answer to {command}")
            self.say.say("bot", first_line(reply))
        found = await self.until(
            lambda: self.latest_with_button(OPEN_CHAT, "30 days"), "the offer in the open channel"
        )
        return str(found[1]["url"]).split("?start=", 1)[1]

    async def subscriber_pays_the_first_month(self, token: str) -> None:
        tg = self.telegram
        start = self.last_id(STARS_BUYER)
        tg.user_sends(STARS_BUYER, f"/start {token}")
        await self.press(STARS_BUYER, "Pay 500", start)
        link = await self.until(
            lambda: self.latest_with_button(STARS_BUYER, "Pay now", start), "the Stars invoice"
        )
        url = str(link[1]["url"])
        if tg.stars.invoices[url].subscription_period != SUBSCRIPTION_PERIOD:
            raise DemoFailed("the Stars invoice is not a 30-day subscription")
        paid = await tg.user_pays(STARS_BUYER, url)
        if paid.outcome is not PayOutcome.PAID or paid.charge_id is None:
            raise DemoFailed(f"the first month was not paid: {paid.to_json()}")
        self.charge_id = paid.charge_id
        invite = await self.until(
            lambda: self.latest_with_button(STARS_BUYER, "Join", start), "the personal link"
        )
        tg.user_opens_link(STARS_BUYER, str(invite[1]["url"]))
        await self.until(
            lambda: tg.status_of(CLOSED_CHAT, STARS_BUYER) == "member", "the subscriber admitted"
        )
        await self.settle()

    async def telegram_renews_and_delivers_it_twice(self) -> None:
        tg = self.telegram
        renewed = tg.subscription_renews(self.charge_id)
        if renewed.outcome is not PayOutcome.PAID:
            raise DemoFailed(f"Telegram did not renew: {renewed.to_json()}")
        update = next(
            u for u in reversed(tg.hub.emitted) if "successful_payment" in u.get("message", {})
        )
        await self.until(lambda: not tg.hub.pending, "the renewal delivered")
        tg.hub.emit("message", copy.deepcopy(update["message"]))
        await self.until(lambda: not tg.hub.pending, "the renewal delivered again")
        await self.until(
            lambda: self.latest_text(STARS_BUYER, "now runs until"), "the renewal confirmed"
        )
        await self.settle()

    async def subscriber_cancels(self) -> str:
        start = self.last_id(STARS_BUYER)
        self.telegram.user_sends(STARS_BUYER, "/stoprenewal")
        return await self.reply_after(STARS_BUYER, start, "the answer to /stoprenewal")

    async def reply_after(self, chat_id: int, start: int, what: str) -> str:
        def found() -> str | None:
            later = [m for m in self.messages_to(chat_id) if m.message_id > start]
            return later[0].text if later else None

        reply: str = await self.until(found, what)
        return reply

    async def subscription(self) -> Subscription:
        async with self.database() as tx:
            (channel,) = await tx.channels.all()
            found = await tx.subscriptions.find(UserId(STARS_BUYER), channel.id)
        assert found is not None
        return found


async def test_a_stars_subscription_renews_once_then_is_canceled_and_ends(
    tmp_path: Path,
) -> None:
    async with (
        open_emulators(tmp_path / "unused.db") as emulated,
        migrated_database("sqlite", tmp_path) as database_url,
    ):
        telegram = emulated.telegram
        clock = SharedClockFile(tmp_path / "clock-offset")
        env = emulated.env | {
            "PAYGATE_DATABASE_URL": database_url,
            "PAYGATE_PUBLIC_URL": emulated.url,
            "PAYGATE_CLOCK_OFFSET_FILE": str(clock.path),
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        out = io.StringIO()
        say = Transcript(out, clock)
        set_up_world(telegram, say)
        with fleet_in(tmp_path) as fleet:
            for role in ("web", "worker"):
                fleet.add(role, role, env)
            await fleet.start_all()
            async with opened_store(config) as store:
                journey = StarsSubscriptionJourney(
                    telegram, emulated.payments, clock, say, store.uow
                )
                try:
                    token = await journey.owner_sells_a_renewing_tier()
                    await journey.subscriber_pays_the_first_month(token)
                    first = await journey.subscription()
                    clock.advance(timedelta(days=29))
                    await journey.telegram_renews_and_delivers_it_twice()
                    renewed = await journey.subscription()
                    stopped = await journey.subscriber_cancels()
                    skipped = telegram.subscription_renews(journey.charge_id)
                    clock.advance(timedelta(days=32))
                    await journey.until(
                        lambda: telegram.status_of(CLOSED_CHAT, STARS_BUYER) != "member",
                        "the subscriber removed at the end",
                    )
                    await journey.settle()
                    ended = await journey.subscription()
                    async with store.uow() as tx:
                        actions = [e.action for e in await tx.audit.all()]
                except DemoFailed as exc:
                    pytest.fail(f"{exc}\n{out.getvalue()}\n{fleet.logs()}", pytrace=False)
            codes = await fleet.stop_all()

    assert first.expires_at - first.starts_at == timedelta(days=30)
    # One renewal, delivered twice: one more month, from the end of the first.
    assert renewed.expires_at == first.expires_at + timedelta(days=30)
    assert actions.count("intent.renewal") == 1
    assert actions.count("payment.granted") == 2
    assert actions.count("stars.subscription_started") == 1
    assert actions.count("stars.subscription_canceled") == 1
    assert stopped.startswith("Done: your Stars subscription will not renew.")
    assert [c.ok for c in telegram.calls_to("editUserStarSubscription")] == [True]
    assert telegram.stars.subscriptions[journey.charge_id].bot_canceled is True
    assert skipped.outcome is PayOutcome.CANCELED
    # Kept to its end, then expired by the sweep: never extended again.
    assert ended.expires_at == renewed.expires_at
    assert ended.status is SubscriptionStatus.EXPIRED
    assert telegram.status_of(CLOSED_CHAT, STARS_BUYER) == "left"
    assert len([c for c in telegram.stars.charges.values() if not c.refunded]) == 2
    assert codes == {"web": 0, "worker": 0}
