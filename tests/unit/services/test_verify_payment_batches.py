"""Notifications applied as a batch in one unit of work follow the same rules as one
by one: the batch only changes how many statements they cost."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain.ids import ChatId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import IssueInvite, SendMessage
from core.domain.payment import EventOutcome, ProviderNotification
from core.ports.alerts import Severity
from core.ports.errors import Conflict, Unavailable
from core.services.invoicing import IssuedInvoice
from core.services.verify_payment import VerificationResult
from tests.unit.services.world import OWNER, World, build, counted

S = IntentStatus
USERS = [UserId(100 + n) for n in range(5)]


async def invoices(world: World, users: Sequence[UserId] = USERS) -> list[IssuedInvoice]:
    channel = await world.channel()
    return [await world.checkout.execute(user, channel.id, 1) for user in users]


def finished(world: World, invoice: IssuedInvoice) -> ProviderNotification:
    return world.notification(invoice, S.FINISHED)


async def test_a_batch_grants_each_payer_once_in_one_unit_of_work() -> None:
    world, uow = counted()
    bills = await invoices(world)
    before = uow.commits
    results = await world.verify.execute_many([finished(world, b) for b in bills])
    assert [(r.outcome, r.status) for r in results] == [  # type: ignore[union-attr]
        (EventOutcome.GRANTED, S.FINISHED)
    ] * len(bills)
    assert uow.commits - before == 1
    grants = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert len(grants) == len(bills)
    owner = [t for t in await world.texts_to(OWNER) if "New subscription" in t]
    assert len(owner) == len(bills)
    async with world.uow() as tx:
        channel_id = (await tx.intents.get(bills[0].intent_id)).channel_id
        for user in USERS:
            assert await tx.subscriptions.find(user, channel_id) is not None


async def test_a_batch_writes_what_one_by_one_writes() -> None:
    alone, together = build(), build()
    for world, many in ((alone, False), (together, True)):
        bills = await invoices(world, USERS[:2])
        notes = [finished(world, b) for b in bills]
        if many:
            await world.verify.execute_many(notes)
        else:
            for note in notes:
                await world.verify.execute(note)
    # The same records and messages; a batch only interleaves them differently.
    assert sorted(await together.audit_actions()) == sorted(await alone.audit_actions())
    assert sorted(await together.keys()) == sorted(await alone.keys())


async def test_copies_of_one_notification_in_a_batch_grant_once_and_answer_duplicate() -> None:
    world, uow = counted()
    [bill] = await invoices(world, USERS[:1])
    before = uow.commits
    results = await world.verify.execute_many([finished(world, bill) for _ in range(50)])
    outcomes = [r.outcome for r in results if isinstance(r, VerificationResult)]
    assert outcomes == [EventOutcome.GRANTED] + [EventOutcome.DUPLICATE] * 49
    assert uow.commits - before == 1
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 1


async def test_two_statuses_of_one_payment_in_a_batch_apply_in_turn() -> None:
    world, uow = counted()
    [bill] = await invoices(world, USERS[:1])
    notes = [world.notification(bill, s) for s in (S.CONFIRMING, S.FINISHED)]
    before = uow.commits
    results = await world.verify.execute_many(notes)
    assert [r.outcome for r in results if isinstance(r, VerificationResult)] == [
        EventOutcome.APPLIED,
        EventOutcome.GRANTED,
    ]
    assert uow.commits - before == 2


async def test_two_payments_of_one_person_for_one_channel_extend_in_turn() -> None:
    world = build()
    channel = await world.channel()
    first = await world.checkout.execute(USERS[0], channel.id, 1)
    second = await world.checkout.execute(USERS[0], channel.id, 2)
    results = await world.verify.execute_many([finished(world, first), finished(world, second)])
    assert [r.outcome for r in results if isinstance(r, VerificationResult)] == [
        EventOutcome.GRANTED,
        EventOutcome.GRANTED,
    ]
    async with world.uow() as tx:
        sub = await tx.subscriptions.find(USERS[0], channel.id)
    assert sub is not None
    assert (sub.expires_at - world.clock.now()).days == 30 + 90
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 1
    renewed = [
        e
        for e in await world.effects()
        if isinstance(e, SendMessage) and e.chat_id == ChatId(USERS[0])
    ]
    assert len(renewed) == 1


async def test_a_batch_refused_at_commit_is_applied_one_by_one() -> None:
    world, uow = counted()
    bills = await invoices(world, USERS[:3])
    uow.refusals.append(Conflict("another process created a subscription first"))
    before = uow.commits
    results = await world.verify.execute_many([finished(world, b) for b in bills])
    assert [r.outcome for r in results if isinstance(r, VerificationResult)] == [
        EventOutcome.GRANTED
    ] * 3
    assert uow.commits - before == 3
    assert len([e for e in await world.effects() if isinstance(e, IssueInvite)]) == 3


async def test_a_store_that_stays_down_answers_each_notification_unavailable() -> None:
    world, uow = counted()
    bills = await invoices(world, USERS[:2])
    uow.refusals.extend(Unavailable("down") for _ in range(3))
    results = await world.verify.execute_many([finished(world, b) for b in bills])
    assert all(isinstance(r, Unavailable) for r in results)
    assert [e for e in await world.effects() if isinstance(e, IssueInvite)] == []
    # The provider resends; the store is back.
    again = await world.verify.execute_many([finished(world, b) for b in bills])
    assert [r.outcome for r in again if isinstance(r, VerificationResult)] == [
        EventOutcome.GRANTED
    ] * 2


async def test_unknown_orders_and_good_ones_in_one_batch_are_judged_apart() -> None:
    world = build()
    [bill] = await invoices(world, USERS[:1])
    forged = world.notification(bill, S.FINISHED, payment_id="p-forged", order_id="nope")
    results = await world.verify.execute_many([forged, finished(world, bill)])
    assert [r.outcome for r in results if isinstance(r, VerificationResult)] == [
        EventOutcome.UNKNOWN_ORDER,
        EventOutcome.GRANTED,
    ]
    assert [a.severity for a in world.alerts.alerts] == [Severity.CRITICAL]


async def test_an_empty_batch_does_nothing() -> None:
    world, uow = counted()
    assert await world.verify.execute_many([]) == []
    assert uow.commits == 0
