"""A coupon redeemed across real processes (issue 21): the owner makes a code in the
bot, a subscriber opens its deep link (``/start c-CODE``), taps the lowered tier and
pays the lowered price on the NowPayments emulator; the signed IPN reaches the web
process, the worker sends the invite. The evidence is what the emulators recorded
and what the database holds; every process then stops on SIGTERM with status 0."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from composition.assembly import opened_store
from composition.config import load_config
from composition.demo.clock import SharedClockFile
from composition.demo.people import CLOSED_CHAT, OPEN_CHAT, OWNER, SUBSCRIBER, set_up_world
from composition.demo.stage import DemoFailed, Stage
from composition.demo.transcript import Transcript
from core.domain.ids import UserId
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_journey_processes import WEBHOOK_SECRET, migrated_database


async def _ask(stage: Stage, user: int, text: str, fragment: str) -> str:
    start = stage.last_id(user)
    stage.telegram.user_sends(user, text)
    found = await stage.until(
        lambda: next(
            (m for m in stage.messages_to(user) if m.message_id > start and fragment in m.text),
            None,
        ),
        f"the bot's answer to {text}",
    )
    return str(found.text)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_subscriber_redeems_a_code_by_deep_link_and_pays_the_lowered_price(
    kind: str, tmp_path: Path
) -> None:
    async with (
        open_emulators(tmp_path / "unused.db") as emulated,
        migrated_database(kind, tmp_path) as database_url,
    ):
        telegram, payments = emulated.telegram, emulated.payments
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
                stage = Stage(telegram, payments, clock, say, store.uow)
                try:
                    await _ask(stage, OWNER, f"/register {OPEN_CHAT} {CLOSED_CHAT} Alpha", "Alpha")
                    await _ask(stage, OWNER, "/tiers 1 1=10USD/30d 2=25USD/90d", "10")
                    made = await _ask(
                        stage, OWNER, "/coupon new SPRING 20% channel 1 uses 5", "SPRING"
                    )
                    link = made.splitlines()[-1]
                    payload = link.split("?start=", 1)[1]
                    start = stage.last_id(SUBSCRIBER)
                    telegram.user_sends(SUBSCRIBER, f"/start {payload}")
                    await stage.press(SUBSCRIBER, "30 days for 8 USD", start)
                    invoice_id = await stage.pay_latest_invoice(SUBSCRIBER, start)
                    await stage.until(
                        lambda: stage.latest_with_button(SUBSCRIBER, "Join", start),
                        "the personal invite link",
                    )
                    await stage.settle()
                except DemoFailed as exc:
                    logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in fleet.processes)
                    pytest.fail(f"{exc}\n{out.getvalue()}\n{logs}", pytrace=False)
                async with store.uow() as tx:
                    coupon = await tx.coupons.by_code("SPRING")
                    assert coupon is not None
                    held = await tx.coupons.redemption(coupon.id, UserId(SUBSCRIBER))
                    assert held is not None and held.intent_id is not None
                    intent = await tx.intents.get(held.intent_id)
                    actions = [e.action for e in await tx.audit.all()]
            codes = await fleet.stop_all()
    assert payload == "c-SPRING"
    assert payments.invoices[invoice_id].price_amount == Decimal(8)
    assert intent.price.amount == Decimal(8) and intent.is_fulfilled
    assert (coupon.used, coupon.uses_left) == (1, 4)
    assert actions.count("coupon.redeemed") == 1 and "subscription.started" in actions
    assert codes == {"web": 0, "worker": 0}
