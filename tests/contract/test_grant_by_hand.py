"""Grant by hand over every store: late money granted from the dashboard goes
through the payment ledger's expectations, so two grants racing (two tabs, two
operators) grant once; in memory, SQLite and Postgres."""

from __future__ import annotations

import asyncio

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.memory.payment_lookup import InMemoryPaymentLookup
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from adapters.outbound.sqla.payment_lookup import SqlPaymentLookup
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.ports.payment_lookup import PaymentLookup
from core.ports.repositories import UnitOfWorkFactory
from core.services.dashboard import Viewer
from tests.unit.services.test_dashboard_payments import OPERATOR, OWNER_VIEW, USER, invites
from tests.unit.services.test_dashboard_payments import payments as dashboard_payments
from tests.unit.services.world import build


def _lookup(uow: UnitOfWorkFactory) -> PaymentLookup:
    if isinstance(uow, InMemoryUnitOfWorkFactory):
        return InMemoryPaymentLookup(uow.store)
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return SqlPaymentLookup(uow.engine)


async def test_two_grants_racing_grant_once(uow_factory: UnitOfWorkFactory) -> None:
    world = build(uow=uow_factory)
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.EXPIRED))
    await world.verify.execute(
        world.notification(invoice, IntentStatus.FINISHED, payment_id="late-9")
    )
    use = dashboard_payments(world, _lookup(uow_factory))
    viewers: list[Viewer] = [OWNER_VIEW, OPERATOR, OWNER_VIEW]
    done = await asyncio.gather(
        *(use.grant_by_hand(v, invoice.intent_id, f"tab {n}") for n, v in enumerate(viewers))
    )
    assert sorted(done) == [False, False, True]
    assert len(await invites(world)) == 1
    async with uow_factory() as tx:
        sub = await tx.subscriptions.find(USER, channel.id)
        audit = [a for a in await tx.audit.all() if a.action == "payment.granted_by_hand"]
    assert sub is not None and sub.period == 1
    assert len(audit) == 1 and audit[0].subject == f"intent:{invoice.intent_id}"
    assert UserId(int(audit[0].actor.removeprefix("user:"))) in {v.user_id for v in viewers}
