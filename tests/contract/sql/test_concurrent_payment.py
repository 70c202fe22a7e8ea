"""The payment path under real concurrency: many copies of one paying notification
delivered at once, each on its own connection, grant exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from adapters.outbound.sqla import SqlUnitOfWorkFactory
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome
from core.ports.errors import Unavailable
from core.services.verify_payment import VerificationResult
from tests.contract.backends_sql import make_cipher, postgres_engine, sqlite_engine
from tests.unit.services.world import World, build

USER = UserId(4242)
COPIES = 50


async def deliver_copies(world: World, copies: int) -> list[VerificationResult | BaseException]:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    await world.verify.execute(world.notification(invoice, IntentStatus.WAITING))
    paying = world.notification(invoice, IntentStatus.FINISHED)
    return await asyncio.gather(
        *(world.verify.execute(paying) for _ in range(copies)), return_exceptions=True
    )


async def assert_granted_once(
    world: World, results: list[VerificationResult | BaseException]
) -> None:
    # A copy may be told "retry later" (503 to the provider) but none may fail otherwise.
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, Unavailable) for e in errors), errors
    outcomes = Counter(r.outcome for r in results if not isinstance(r, BaseException))
    assert outcomes[EventOutcome.GRANTED] == 1
    assert set(outcomes) <= {EventOutcome.GRANTED, EventOutcome.DUPLICATE}
    async with world.uow() as tx:
        subscriptions = await tx.subscriptions.for_user(USER)
    assert len(subscriptions) == 1
    assert subscriptions[0].period == 1
    grants = [e for e in await world.effects() if isinstance(e, IssueInvite)]
    assert len(grants) == 1


@pytest.mark.postgres
async def test_fifty_concurrent_paying_notifications_on_postgres_grant_once() -> None:
    async with postgres_engine(pool_size=10, max_overflow=10) as engine:
        world = build(uow=SqlUnitOfWorkFactory(engine, make_cipher()))
        results = await deliver_copies(world, COPIES)
        await assert_granted_once(world, results)


async def test_fifty_concurrent_paying_notifications_on_sqlite_grant_once() -> None:
    async with sqlite_engine() as engine:
        world = build(uow=SqlUnitOfWorkFactory(engine, make_cipher()))
        results = await deliver_copies(world, COPIES)
        await assert_granted_once(world, results)
