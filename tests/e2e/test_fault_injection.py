"""Crash-test fault injection (tests.e2e.faults): the rules, where each point is on
the payment and outbox paths, what a crash there leaves behind, and that the crash
tests' root wires it only when asked for, over the production containers.

A fired rule raises ``Died`` here instead of SIGKILL-ing the test runner; it is a
BaseException, so no ``except Exception`` on the way can swallow it, as nothing can
catch a SIGKILL. One test does kill a real process.
"""

from __future__ import annotations

import base64
import inspect
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest
from dependency_injector import providers

from adapters.catalog.notices import render
from adapters.inbound.worker.outbox_dispatcher import DispatchSettings, OutboxDispatcher
from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from adapters.outbound.telegram.chat_access import TelegramChatAccess
from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.messenger import TelegramMessenger
from adapters.outbound.waking_uow import WakingUnitOfWorkFactory
from composition.config import load_config
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.messages import Verbatim
from core.domain.outbox import IssueInvite, SendMessage
from core.domain.payment import EventOutcome
from core.domain.rights import ChatRights, MemberStatus
from core.services.grant_access import GrantAccess
from core.services.invoicing import IssuedInvoice
from core.services.settle_outbox import SettleOutbox
from tests.e2e.faults import (
    FAULT_LOG_MARK,
    FaultInjector,
    FaultPoint,
    FaultRule,
    FaultyChatAccess,
    FaultyMessenger,
    FaultyUnitOfWorkFactory,
    parse_faults,
)
from tests.e2e.faulty_process import FAULTS_VARIABLE, faulty_infrastructure
from tests.unit.services.world import CLOSED, OWNER, World, build

USER = UserId(42)
BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")


class Died(BaseException):
    """What a fired rule does in these tests instead of SIGKILL."""


def die() -> NoReturn:
    raise Died()


def injector(spec: str, seed: int = 7) -> FaultInjector:
    return FaultInjector(parse_faults(spec), die=die, rng=random.Random(seed))


def world_with(spec: str) -> World:
    """The core over in-memory adapters whose unit of work passes the points."""
    return build(uow=FaultyUnitOfWorkFactory(InMemoryUnitOfWorkFactory(), injector(spec)))


async def checked_out(world: World) -> IssuedInvoice:
    channel = await world.channel()
    return await world.checkout.execute(USER, channel.id, 1)


async def grants_queued(world: World) -> int:
    return sum(isinstance(e, IssueInvite) for e in await world.effects())


# ---------------------------------------------------------------- the rules


def test_rules_are_read_as_probabilities_or_pass_numbers() -> None:
    rules = parse_faults(" after-event-insert:0.25 , after-telegram-call@3,")
    assert rules == (
        FaultRule(FaultPoint.AFTER_EVENT_INSERT, probability=0.25),
        FaultRule(FaultPoint.AFTER_TELEGRAM_CALL, nth=3),
    )
    assert ",".join(map(str, rules)) == "after-event-insert:0.25,after-telegram-call@3"


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("after-lunch:0.5", "not a fault point"),
        ("after-claim:0", "probability"),
        ("after-claim:1.5", "probability"),
        ("after-claim@0", "counted from 1"),
        ("after-claim@x", "invalid literal"),
        ("after-claim", "neither"),
        ("after-claim:0.1,after-claim@2", "two rules"),
    ],
)
def test_a_malformed_rule_is_refused_with_the_reason(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_faults(spec)


def test_the_production_configuration_knows_no_faults() -> None:
    config = load_config({**BASE, "PAYGATE_FAULTS": "after-claim@2"}, dotenv=NO_DOTENV)
    assert not any("fault" in name for name in config.masked())


def test_the_nth_pass_dies_and_the_passes_before_it_and_at_other_points_do_not() -> None:
    faults = injector("after-claim@3")
    for _ in range(5):
        faults.reached(FaultPoint.AFTER_EVENT_INSERT, "elsewhere")
    faults.reached(FaultPoint.AFTER_CLAIM, "1 outbox messages leased")
    faults.reached(FaultPoint.AFTER_CLAIM, "1 outbox messages leased")
    with pytest.raises(Died):
        faults.reached(FaultPoint.AFTER_CLAIM, "1 outbox messages leased")
    assert faults.passes == {FaultPoint.AFTER_EVENT_INSERT: 5, FaultPoint.AFTER_CLAIM: 3}


def test_a_probability_kills_about_that_share_of_passes() -> None:
    faults = injector("after-telegram-call:0.1", seed=2024)
    deaths = 0
    for _ in range(2000):
        try:
            faults.reached(FaultPoint.AFTER_TELEGRAM_CALL, "sendMessage to 1")
        except Died:
            deaths += 1
    assert 140 <= deaths <= 260
    with pytest.raises(Died):
        injector("after-telegram-call:1").reached(FaultPoint.AFTER_TELEGRAM_CALL, "x")


def test_the_last_words_name_the_point_the_pass_and_what_was_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(Died):
        injector("after-payment-commit@1").reached(
            FaultPoint.AFTER_PAYMENT_COMMIT, "payment 99 finished"
        )
    [record] = [r for r in caplog.records if FAULT_LOG_MARK in r.getMessage()]
    assert record.levelname == "CRITICAL"
    assert record.getMessage().startswith(f"{FAULT_LOG_MARK} at after-payment-commit (pass 1,")
    assert record.getMessage().endswith("payment 99 finished")


def test_a_rule_kills_the_real_process_with_sigkill() -> None:
    code = (
        "from tests.e2e.faults import FaultInjector, FaultPoint, parse_faults\n"
        "faults = FaultInjector(parse_faults('after-claim@2'))\n"
        "faults.reached(FaultPoint.AFTER_CLAIM, 'first')\n"
        "print('alive after the first pass', flush=True)\n"
        "faults.reached(FaultPoint.AFTER_CLAIM, 'second')\n"
        "print('alive after the second pass', flush=True)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -9
    assert done.stdout == "alive after the first pass\n"
    assert f"{FAULT_LOG_MARK} at after-claim (pass 2" in done.stderr


# ---------------------------------------------------------------- payment path


async def test_a_crash_after_the_event_insert_keeps_nothing_and_the_resend_grants() -> None:
    world = world_with("after-event-insert@2")  # pass 1 is the "waiting" notification
    invoice = await checked_out(world)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    finished = world.notification(invoice, IntentStatus.FINISHED)
    with pytest.raises(Died):
        await world.verify.execute(finished)
    async with world.uow() as tx:
        intent = await tx.intents.get(invoice.intent_id)
        events = await tx.events.for_intent(invoice.intent_id)
        assert await tx.subscriptions.find(USER, intent.channel_id) is None
    assert intent.status is IntentStatus.WAITING
    assert [e.status for e in events] == [IntentStatus.WAITING]
    assert await grants_queued(world) == 0

    # The provider got no answer and sends it again.
    assert (await world.verify.execute(finished)).outcome is EventOutcome.GRANTED
    assert await grants_queued(world) == 1


async def test_a_crash_after_the_payment_commit_keeps_it_and_the_resend_is_a_duplicate() -> None:
    world = world_with("after-payment-commit@2")
    invoice = await checked_out(world)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    finished = world.notification(invoice, IntentStatus.FINISHED)
    with pytest.raises(Died):
        await world.verify.execute(finished)
    async with world.uow() as tx:
        intent = await tx.intents.get(invoice.intent_id)
        subscription = await tx.subscriptions.find(USER, intent.channel_id)
    assert (intent.status, intent.is_fulfilled) == (IntentStatus.FINISHED, True)
    assert subscription is not None and subscription.period == 1
    assert await grants_queued(world) == 1

    assert (await world.verify.execute(finished)).outcome is EventOutcome.DUPLICATE
    assert await grants_queued(world) == 1


async def test_a_replayed_notification_is_not_a_pass_through_either_point() -> None:
    faults = injector("after-event-insert@99")
    world = build(uow=FaultyUnitOfWorkFactory(InMemoryUnitOfWorkFactory(), faults))
    invoice = await checked_out(world)
    waiting = world.notification(invoice, IntentStatus.WAITING)
    await world.verify.execute(waiting)
    await world.verify.execute(waiting)
    assert faults.passes == {
        FaultPoint.AFTER_EVENT_INSERT: 1,
        FaultPoint.AFTER_PAYMENT_COMMIT: 1,
    }


# ---------------------------------------------------------------- outbox path


async def test_a_crash_after_the_claim_sends_nothing_until_the_lease_ends_then_once() -> None:
    world = world_with("after-claim@1")
    await world.pay(await checked_out(world))
    with pytest.raises(Died):
        await world.dispatch.run_once()
    assert world.messenger.sent == []
    # The dead dispatcher's claims stay hidden from the others until the lease ends.
    assert (await world.dispatch.run_once()).claimed == 0

    world.clock.advance(DispatchSettings().lease + timedelta(seconds=1))
    for _ in range(5):
        await world.dispatch.run_once()
        world.clock.advance(timedelta(seconds=5))
    invites = [m for m in world.messenger.sent if m.chat_id == ChatId(USER)]
    assert len(invites) == 1
    assert len(world.chat.links) == 1
    async with world.uow() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_a_crash_after_telegram_sent_a_message_sends_it_again_after_the_lease() -> None:
    """At least once, never lost: the message went out, the record of it did not, so
    the next dispatcher sends it again. Telegram has no idempotency key for a
    message, so this duplicate is the price of not losing one."""
    world = build()
    faults = injector("after-telegram-call@1")
    one_at_a_time = DispatchSettings(batch_size=1, concurrency=1)
    dying = OutboxDispatcher(
        SettleOutbox(
            world.uow,
            world.clock,
            FaultyMessenger(world.messenger, faults),
            world.chat,
            world.grant,
            world.refresh,
            world.alerts,
        ),
        world.clock,
        one_at_a_time,
    )
    async with world.uow() as tx:
        await tx.outbox.enqueue(
            "hello:1", SendMessage(ChatId(OWNER), Verbatim("hello")), world.clock.now()
        )
        await tx.commit()
    with pytest.raises(Died):
        await dying.run_once()
    assert [m.message.text for m in world.messenger.sent] == ["hello"]
    async with world.uow() as tx:
        message = await tx.outbox.get("hello:1")
    assert message is not None and message.status.value == "pending"

    world.clock.advance(DispatchSettings().lease + timedelta(seconds=1))
    await world.dispatch.run_once()
    assert [m.message.text for m in world.messenger.sent] == ["hello", "hello"]
    async with world.uow() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_every_telegram_effect_is_done_before_the_crash_and_reads_are_no_pass() -> None:
    world = build()
    world.admin_chats()
    world.chat.set_member(CLOSED, USER, ChatRights(MemberStatus.MEMBER))
    faults = injector("after-telegram-call:1")
    chat = FaultyChatAccess(world.chat, faults)
    messenger = FaultyMessenger(world.messenger, faults)
    until = datetime(2030, 1, 1, tzinfo=UTC)

    with pytest.raises(Died):
        await messenger.send(ChatId(USER), Verbatim("hi"))
    assert [m.message.text for m in world.messenger.sent] == ["hi"]
    with pytest.raises(Died):
        await chat.create_invite_link(CLOSED, "sub 42 #1", GrantMode.JOIN_REQUEST, until)
    assert len(world.chat.links) == 1
    with pytest.raises(Died):
        await chat.remove_member(CLOSED, USER)
    assert not world.chat.is_member(CLOSED, USER)
    assert (await chat.bot_rights(CLOSED)).is_admin
    assert (await chat.rights(CLOSED, USER)).status is MemberStatus.LEFT
    assert faults.passes == {FaultPoint.AFTER_TELEGRAM_CALL: 3}


async def test_a_crash_after_the_link_was_made_makes_a_second_link_but_sends_one() -> None:
    """The grant's link is stored with its message in one transaction after Telegram
    made it; a crash in between leaves an unused link at Telegram, not a second
    message and not a second grant."""
    world = build()
    invoice = await checked_out(world)
    await world.pay(invoice)
    [grant_id] = [e.grant_id for e in await world.effects() if isinstance(e, IssueInvite)]
    dying = GrantAccess(
        world.uow, world.clock, FaultyChatAccess(world.chat, injector("after-telegram-call@1"))
    )
    with pytest.raises(Died):
        await dying.execute(grant_id)
    await world.grant.execute(grant_id)
    async with world.uow() as tx:
        grant = await tx.grants.get(grant_id)
    assert [link.url for link in world.chat.links][1:] == [grant.invite_link]
    invites = [
        e for e in await world.effects() if isinstance(e, SendMessage) and e.chat_id == ChatId(USER)
    ]
    assert [b.url for e in invites for row in render(e.message).buttons for b in row] == [
        grant.invite_link
    ]


# ---------------------------------------------------------------- wiring


async def resolve(provider: Callable[[], object]) -> object:
    # Once a container holds async resources, its providers may answer with futures.
    value = provider()
    return await value if inspect.isawaitable(value) else value


@pytest.mark.parametrize(("spec", "wrapped"), [("", False), ("after-claim@5", True)])
async def test_the_test_root_wraps_the_ports_only_when_faults_are_given(
    spec: str,
    wrapped: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(That the wrapped units of work are the ones the use cases get shows in the
    crash test: a fault at the event insert can only fire through them.)"""
    monkeypatch.setenv(FAULTS_VARIABLE, spec)
    infra = faulty_infrastructure(load_config(BASE, dotenv=NO_DOTENV))
    # A client that is never started, and nothing built that opens a database.
    infra.telegram.override(
        providers.Object(TelegramBotClient("1234567:" + "a" * 35, api_url="http://127.0.0.1:9"))
    )
    messenger = await resolve(infra.messenger)
    chat = await resolve(infra.chat_access)
    # The use cases' units of work wake the dispatchers around the store's, wrapped or not.
    assert infra.uow.provides is WakingUnitOfWorkFactory
    assert list(infra.uow.args) == [infra.store_uow, infra.outbox_wakeup]
    store = infra.store_uow.last_overriding
    if wrapped:
        assert isinstance(messenger, FaultyMessenger)
        assert isinstance(chat, FaultyChatAccess)
        assert isinstance(store, providers.Singleton)
        assert store.provides is FaultyUnitOfWorkFactory
        inner, faults = list(store.args)
        assert isinstance(inner, providers.Singleton) and inner.provides is SqlUnitOfWorkFactory
        assert isinstance(faults, FaultInjector)
        assert faults.rules == (FaultRule(FaultPoint.AFTER_CLAIM, nth=5),)
    else:
        assert isinstance(messenger, TelegramMessenger)
        assert isinstance(chat, TelegramChatAccess)
        assert store is None
        assert infra.store_uow.provides is SqlUnitOfWorkFactory
