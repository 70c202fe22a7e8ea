"""PaymentLookup and ExportPages contract: a payment found by its id, invoice id or
the provider's payment id (its own or a notification's), only in the channels asked;
what is held about one payment; and keyset pages of subscriptions, payments and
donations; in memory, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import attrs
import pytest

from adapters.outbound.memory import InMemoryStore, InMemoryUnitOfWorkFactory
from adapters.outbound.memory.payment_lookup import InMemoryExportPages, InMemoryPaymentLookup
from adapters.outbound.sqla.payment_lookup import SqlExportPages, SqlPaymentLookup
from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.ids import ChannelId, IntentId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventOutcome, PaymentIntent, Purpose
from core.ports.payment_ledger import PaymentChanges
from core.ports.payment_lookup import ExportPages, PaymentLookup
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.backends_sql import postgres_engine, sql_uow, sqlite_engine
from tests.contract.builders import (
    at,
    commit_with,
    fresh,
    fresh_user,
    given_channel,
    make_donation,
    make_event,
    make_intent,
    make_subscription,
    saving,
)


@attrs.frozen
class Harness:
    uow: UnitOfWorkFactory
    lookup: PaymentLookup
    pages: ExportPages


@asynccontextmanager
async def memory() -> AsyncIterator[Harness]:
    store = InMemoryStore()
    yield Harness(
        InMemoryUnitOfWorkFactory(store), InMemoryPaymentLookup(store), InMemoryExportPages(store)
    )


def _sql(
    engine: Callable[[], AbstractAsyncContextManager[object]],
) -> Callable[[], AbstractAsyncContextManager[Harness]]:
    @asynccontextmanager
    async def harness() -> AsyncIterator[Harness]:
        async with engine() as db:
            yield Harness(sql_uow(db), SqlPaymentLookup(db), SqlExportPages(db))  # type: ignore[arg-type]

    return harness


HARNESSES = {"memory": memory, "sqlite": _sql(sqlite_engine), "postgres": _sql(postgres_engine)}


@pytest.fixture(params=list(HARNESSES), ids=list(HARNESSES))
async def h(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with HARNESSES[request.param]() as harness:
        yield harness


def _intent(channel: Channel, **kw: object) -> PaymentIntent:
    intent = make_intent(channel, **kw)  # type: ignore[arg-type]
    intent.invoice_id = fresh("inv-")
    intent.payment_id = fresh("pay-")
    return intent


async def _add(h: Harness, *intents: PaymentIntent) -> None:
    async def add(uow: object) -> None:
        for intent in intents:
            await uow.intents.add(intent)  # type: ignore[attr-defined]

    await commit_with(h.uow, add)


async def test_a_payment_is_found_by_each_of_its_ids_in_the_channels_asked(h: Harness) -> None:
    mine, theirs = await given_channel(h.uow), await given_channel(h.uow)
    intent, other = _intent(mine), _intent(theirs)
    await _add(h, intent, other)
    late = make_event(intent, payment_id=fresh("late-"), status=IntentStatus.FINISHED)
    await commit_with(h.uow, saving(PaymentChanges(events=[late])))
    assert intent.invoice_id and intent.payment_id
    for text in (intent.id, intent.invoice_id, intent.payment_id, late.payment_id):
        found = await h.lookup.find(text, [mine.id])
        assert [i.id for i in found] == [intent.id], text
        assert [i.id for i in await h.lookup.find(text, None)] == [intent.id]
        assert await h.lookup.find(text, [theirs.id]) == []
        assert await h.lookup.find(text, []) == []
    assert await h.lookup.find(intent.id[:-1], None) == []  # exact ids only
    assert await h.lookup.find("", None) == []


async def test_a_record_holds_the_events_the_audit_and_what_it_bought(h: Harness) -> None:
    channel = await given_channel(h.uow)
    intent = _intent(channel, purpose=Purpose.DONATION)
    await _add(h, intent)
    first = make_event(intent, payment_id="p-1", status=IntentStatus.WAITING, received_at=at())
    then = make_event(
        intent,
        payment_id="p-1",
        status=IntentStatus.FINISHED,
        received_at=at(minutes=3),
        outcome=EventOutcome.STALE,
    )
    donation = make_donation(intent)
    records = [
        AuditRecord("user:1", "payment.granted_by_hand", f"intent:{intent.id}", {"reason": "x"}),
        AuditRecord(
            "system", "donation.received", f"donation:{donation.id}", {"intent": intent.id}
        ),
        AuditRecord("system", "donation.received", "donation:other", {"intent": "other"}),
    ]
    changes = PaymentChanges(events=[then, first], donations=[donation], audit=records)
    await commit_with(h.uow, saving(changes))
    record = await h.lookup.record(intent.id)
    assert record is not None
    assert record.intent.id == intent.id
    assert [(e.status, e.outcome) for e in record.events] == [
        (IntentStatus.WAITING, EventOutcome.APPLIED),
        (IntentStatus.FINISHED, EventOutcome.STALE),
    ]
    assert [(a.action, a.subject) for a in record.audit] == [
        ("payment.granted_by_hand", f"intent:{intent.id}"),
        ("donation.received", f"donation:{donation.id}"),
    ]
    assert record.donation is not None and record.donation.amount == donation.amount
    assert record.subscription is None
    assert await h.lookup.record(IntentId(fresh("nobody"))) is None


async def test_a_subscription_payment_shows_the_payers_subscription(h: Harness) -> None:
    channel = await given_channel(h.uow)
    user = fresh_user()
    intent = _intent(channel, user_id=user)
    sub = make_subscription(channel, user_id=user)
    await _add(h, intent)
    await commit_with(h.uow, saving(PaymentChanges(new_subscriptions=[sub])))
    record = await h.lookup.record(intent.id)
    assert record is not None and record.subscription is not None
    assert record.subscription.id == sub.id and record.donation is None


async def test_export_pages_walk_every_row_of_the_channels_once_in_id_order(h: Harness) -> None:
    mine, theirs = await given_channel(h.uow), await given_channel(h.uow)
    intents = [_intent(mine, purpose=Purpose.DONATION) for _ in range(7)]
    abandoned = make_intent(mine, purpose=Purpose.DONATION)
    abandoned.invoice_id = abandoned.payment_id = None
    abandoned.actually_paid = None
    await _add(h, *intents, abandoned, _intent(theirs, purpose=Purpose.DONATION))
    subs = [make_subscription(mine, user_id=fresh_user()) for _ in range(5)]
    donations = [make_donation(i) for i in intents[:6]]
    changes = PaymentChanges(new_subscriptions=subs, donations=donations)
    await commit_with(h.uow, saving(changes))

    async def walk(read: Callable[..., object]) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            page = await read([mine.id], after, 3)  # type: ignore[misc]
            seen.extend(row.id for row in page)
            if len(page) < 3:
                return seen
            after = page[-1].id

    assert await walk(h.pages.intents) == sorted(i.id for i in intents)
    assert await walk(h.pages.subscriptions) == sorted(s.id for s in subs)
    assert await walk(h.pages.donations) == sorted(d.id for d in donations)
    assert await h.pages.intents([ChannelId(fresh("none"))], None, 10) == []
    assert (await h.pages.intents([mine.id], None, 1))[0].created_at == intents[0].created_at
