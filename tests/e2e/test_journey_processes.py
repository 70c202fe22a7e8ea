"""The demo's journey against real PayGate processes, in the shape production runs.

The Telegram and NowPayments emulators run in this test process; PayGate runs as
separate ``paygate web`` / ``bot`` / ``worker`` processes started as a deployment
starts them (configuration in the environment only), sharing one database: a SQLite
file, or a Postgres database created for the test and dropped after it. Everything
between them crosses real sockets: Telegram pushes updates to ``/webhooks/telegram``
(or the bot process polls), NowPayments posts signed IPNs to the web process, the
worker dispatches the outbox and sweeps. Time moves for the whole fleet through the
shared clock-offset file. The evidence is what the emulators recorded and what the
database holds; at the end every process stops on SIGTERM with exit status 0.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import load_config
from composition.demo.clock import SharedClockFile
from composition.demo.journey import Demo
from composition.demo.people import (
    CLOSED_CHAT,
    DONOR,
    OPEN_CHAT,
    OWNER,
    REFUNDED,
    STARS_BUYER,
    STRANGER,
    SUBSCRIBER,
    set_up_world,
)
from composition.demo.stage import DemoFailed
from composition.demo.transcript import Transcript
from core.domain.audit import verify_chain
from core.domain.money import Money
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.repositories import UnitOfWorkFactory
from sandbox.nowpayments.emulator import NowPaymentsEmulator
from sandbox.telegram.server import TelegramEmulator
from tests.contract.backends_sql import blank_postgres_database
from tests.e2e.emulated import NP_KEY, NP_LOGIN, NP_SECRET, open_emulators
from tests.e2e.processes import Fleet, fleet_in

WEBHOOK_SECRET = "hook-secret-" + "w" * 24


@attrs.frozen
class Shape:
    """Which processes serve PayGate, and how Telegram reaches the bot."""

    roles: tuple[str, ...]
    webhook: bool


WEBHOOK = Shape(("web", "worker"), webhook=True)
"""Production with a public URL: Telegram pushes updates to the web process."""
POLLING = Shape(("bot", "web", "worker"), webhook=False)
"""A host Telegram cannot reach: a bot process polls, the web process takes IPNs."""


@asynccontextmanager
async def migrated_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """A database of this test's own at the newest schema, as ``paygate db upgrade``
    leaves it; the Postgres one is created for the test and dropped after it."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'paygate.db'}"
        await asyncio.to_thread(upgrade, url, "head")
        yield url
        return
    async with blank_postgres_database() as pg_url:
        url = pg_url.render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, url, "head")
        yield url


def bot_texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text for m in telegram.messages(chat_id) if m.from_id == telegram.bot.id]


def containing(texts: list[str], fragment: str) -> list[str]:
    return [t for t in texts if fragment in t]


def successful(telegram: TelegramEmulator, method: str) -> list[tuple[int, int]]:
    """(chat, user) of every call of ``method`` the emulator carried out."""
    return [
        (int(c.params["chat_id"]), int(c.params["user_id"]))
        for c in telegram.calls_to(method)
        if c.ok
    ]


def secrets_of(env: dict[str, str], telegram: TelegramEmulator) -> dict[str, str]:
    named = {
        "bot token": telegram.token,
        "NowPayments API key": NP_KEY,
        "IPN secret": NP_SECRET,
        "NowPayments account password": NP_LOGIN[1],
        "webhook secret": WEBHOOK_SECRET,
    }
    for variable in ("PAYGATE_MAC_KEYS", "PAYGATE_ENCRYPTION_KEYS"):
        named[variable] = env[variable]
    return named


@pytest.mark.parametrize(
    ("kind", "shape"),
    [
        pytest.param("sqlite", WEBHOOK, id="sqlite-web+worker-webhook"),
        pytest.param(
            "postgres", WEBHOOK, id="postgres-web+worker-webhook", marks=pytest.mark.postgres
        ),
        # Polling once, on the embedded database: a host Telegram cannot reach is
        # typically a small one, and each variant costs 10-20 s of wall time.
        pytest.param("sqlite", POLLING, id="sqlite-bot+web+worker-polling"),
    ],
)
async def test_the_whole_journey_runs_across_real_processes(
    kind: str, shape: Shape, tmp_path: Path
) -> None:
    async with (
        open_emulators(tmp_path / "unused.db") as emulated,
        migrated_database(kind, tmp_path) as database_url,
    ):
        telegram, payments = emulated.telegram, emulated.payments
        public_url = emulated.url
        clock = SharedClockFile(tmp_path / "clock-offset")
        # The demo's settings (fresh keys, fast worker loops), then this test's
        # database in place of the demo's throwaway SQLite file.
        env = emulated.env | {
            "PAYGATE_DATABASE_URL": database_url,
            "PAYGATE_PUBLIC_URL": public_url,
            "PAYGATE_CLOCK_OFFSET_FILE": str(clock.path),
        }
        if shape.webhook:
            env["PAYGATE_TELEGRAM_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        config = load_config(env, dotenv=tmp_path / "none.env")
        out = io.StringIO()
        say = Transcript(out, clock)
        set_up_world(telegram, say)
        with fleet_in(tmp_path) as fleet:
            for role in shape.roles:
                fleet.add(role, role, env)
            await fleet.start_all()
            async with opened_store(config) as store:
                db = store.uow
                broken = ""
                try:
                    await Demo(telegram, payments, clock, say, db).play()
                except DemoFailed as exc:
                    broken = str(exc)
                if broken:
                    # Outside the handler: the report is the transcript and the logs,
                    # not a chained traceback of the polling loop.
                    pytest.fail(f"{broken}\n{fleet_report(fleet, out)}", pytrace=False)
                codes = await fleet.stop_all()
                logs = {p.name: p.log() for p in fleet.processes}
                # After the graceful stop: the worker has finished the run in flight,
                # so the outbox row of the last message seen is marked done too.
                await assert_the_database_holds_the_journey(db)
        assert_the_emulators_saw_the_journey(telegram, payments, shape, public_url)
        assert codes == dict.fromkeys(shape.roles, 0), fleet_report(fleet, out)
        for name, log in logs.items():
            assert log.rstrip().endswith("stopped"), f"{name} did not stop cleanly:\n{log}"
            for what, value in secrets_of(env, telegram).items():
                assert value not in log, f"the {what} is in the {name} log"


async def assert_the_database_holds_the_journey(db: UnitOfWorkFactory) -> None:
    async with db() as tx:
        channels = await tx.channels.all()
        assert [(c.title, c.owner_id, c.open_chat_id, c.closed_chat_id) for c in channels] == [
            ("Alpha Signals", OWNER, OPEN_CHAT, CLOSED_CHAT)
        ]
        channel = channels[0]
        subscriptions = await tx.subscriptions.for_channel(channel.id)
        donations = await tx.donations.for_channel(channel.id)
        chain = await tx.audit.all()
        pending = await tx.outbox.pending_count()
    by_user: dict[int, Subscription] = {s.user_id: s for s in subscriptions}
    assert sorted(by_user) == [SUBSCRIBER, REFUNDED, STARS_BUYER]
    # Rob's only payment was refunded: nothing paid is left. Stella's, in Stars, too.
    assert by_user[REFUNDED].status is SubscriptionStatus.REVOKED
    assert by_user[STARS_BUYER].status is SubscriptionStatus.REVOKED
    assert by_user[STARS_BUYER].tier == 2
    subscription = by_user[SUBSCRIBER]
    assert subscription.tier == 1
    # Renewed while still active: one term of 30 + 30 days from the first payment,
    # not a second term started at the renewal; then expired by the sweep.
    assert subscription.expires_at - subscription.starts_at == timedelta(days=60)
    assert subscription.period == 1
    assert subscription.status is SubscriptionStatus.EXPIRED
    assert [(d.user_id, d.amount) for d in donations] == [(DONOR, Money(Decimal(5), "USD"))]
    assert verify_chain(chain), "the audit chain is broken"
    actions = [e.action for e in chain]
    assert actions.count("subscription.refunded") == 2
    assert actions.count("payment.refund_requested") == 1
    assert actions.count("join.approved") == 3
    assert actions.count("join.declined") == 1
    assert pending == 0, "effects were left in the outbox"


def assert_the_emulators_saw_the_journey(
    telegram: TelegramEmulator, payments: NowPaymentsEmulator, shape: Shape, public_url: str
) -> None:
    owner = bot_texts(telegram, OWNER)
    assert containing(owner, "Alpha Signals is registered as channel 1.")
    assert len(containing(owner, "New subscription in Alpha Signals: user 2001, 30 days")) == 1
    assert len(containing(owner, "Renewal in Alpha Signals: user 2001, 30 days")) == 1
    assert len(containing(owner, "Donation to Alpha Signals: user 2003 gave 5 USD")) == 1
    assert len(containing(owner, "Refund in Alpha Signals: user 2004, 10 USD")) == 1
    assert len(containing(owner, "New subscription in Alpha Signals: user 2005, 90 days")) == 1
    assert len(containing(owner, "Refund in Alpha Signals: user 2005, 1200 XTR")) == 1

    sam = bot_texts(telegram, SUBSCRIBER)
    # Each reminder and notice once, however many sweeps ran while time jumped.
    assert len(containing(sam, "Payment confirmed. Welcome to Alpha Signals!")) == 1
    assert len(containing(sam, "Renew to keep your access")) == 1
    assert len(containing(sam, "now runs until")) == 1
    assert len(containing(sam, "has ended")) == 1
    assert containing(bot_texts(telegram, STRANGER), "no active subscription in your name")
    # Dana's app speaks Spanish: so does the bot, to her.
    assert containing(bot_texts(telegram, DONOR), "¡Gracias! Tu donación de 5 USD")

    rob = bot_texts(telegram, REFUNDED)
    assert len(containing(rob, "was refunded")) == 1
    stella = bot_texts(telegram, STARS_BUYER)
    assert len(containing(stella, "Payment confirmed. Welcome to Alpha Signals!")) == 1
    assert len(containing(stella, "Your payment of 1200 XTR for Alpha Signals was refunded")) == 1
    # Telegram asked once, the bot said yes once; one charge, refunded once.
    assert [ok for _, ok, _ in telegram.stars.answers] == [True]
    assert [c.refunded for c in telegram.stars.charges.values()] == [True]
    assert [c.ok for c in telegram.calls_to("refundStarPayment")] == [True]

    assert successful(telegram, "approveChatJoinRequest") == [
        (CLOSED_CHAT, SUBSCRIBER),
        (CLOSED_CHAT, REFUNDED),
        (CLOSED_CHAT, STARS_BUYER),
    ]
    assert successful(telegram, "declineChatJoinRequest") == [(CLOSED_CHAT, STRANGER)]
    assert successful(telegram, "unbanChatMember") == [
        (CLOSED_CHAT, SUBSCRIBER),
        (CLOSED_CHAT, REFUNDED),
        (CLOSED_CHAT, STARS_BUYER),
    ]
    assert telegram.status_of(CLOSED_CHAT, SUBSCRIBER) == "left"
    assert telegram.status_of(CLOSED_CHAT, REFUNDED) == "left"
    assert telegram.status_of(CLOSED_CHAT, STARS_BUYER) == "left"
    assert telegram.status_of(CLOSED_CHAT, STRANGER) == "left"

    # Four payments (subscription, renewal, donation, and one refunded later); the
    # renewal's IPNs were all lost, and reconciliation found it by its invoice. Every
    # IPN sent was accepted by the web process at the public URL.
    assert len(payments.payments) == 4
    assert len({d.payment_id for d in payments.deliveries}) == 3
    assert {(d.url, d.response_status) for d in payments.deliveries} == {
        (f"{public_url}/webhooks/nowpayments", 200)
    }
    listed = [c for c in payments.calls if c.path == "/v1/payment/"]
    assert listed, "reconciliation never listed an invoice's payments"
    assert {c.status for c in listed} == {200}
    assert {c.status for c in payments.calls if c.path == "/v1/auth"} == {200}
    if shape.webhook:
        assert not telegram.calls_to("getUpdates"), "in webhook mode nothing polls"
        # Every update pushed to the web process was accepted at the first push: the
        # webhook is set only once the server listens.
        assert {a.status for a in telegram.hub.attempts} == {200}
        accepted = [a.update_id for a in telegram.hub.attempts]
        assert sorted(accepted) == sorted(u["update_id"] for u in telegram.hub.emitted)
        assert not telegram.hub.pending
    else:
        assert not telegram.calls_to("setWebhook"), "in polling mode no webhook is set"
        assert telegram.calls_to("getUpdates")


def fleet_report(fleet: Fleet, out: io.StringIO) -> str:
    return f"{out.getvalue()}\n{fleet.logs()}"
