"""What the SQL adapter keeps that the port contract cannot see from outside: exact
money, UTC times, the payout wallet encrypted at rest, driver errors translated,
and a unit of work still usable after a refused write."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto import FernetCipher
from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine
from adapters.outbound.sqla.tables import channels as channels_table
from adapters.outbound.sqla.tables import payment_intents
from core.domain.ids import ChannelId, IntentId, SubscriptionId, UserId
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, Unavailable
from core.ports.payment_ledger import PaymentChanges
from core.ports.security import DecryptionFailed
from tests.contract.backends_sql import make_cipher, sqlite_url
from tests.contract.builders import make_channel

T0 = datetime(2025, 3, 1, 12, 0, 0, 654321, tzinfo=UTC)


def _intent(price: Money, paid: Money | None) -> PaymentIntent:
    return PaymentIntent(
        id=IntentId("in0money"),
        purpose=Purpose.DONATION,
        user_id=UserId(7_000_000_001),
        channel_id=ChannelId("ch0money"),
        price=price,
        provider="fakepay",
        created_at=T0,
        updated_at=T0,
        actually_paid=paid,
    )


@pytest.mark.parametrize(
    ("price", "paid"),
    [
        ("10.50", "0.000000000000000001"),
        ("0.01", "123456789012345678901234.123456789012345678"),
        ("1000000", "0.1"),
    ],
)
async def test_amounts_come_back_with_every_digit_and_as_written(
    uow_factory: SqlUnitOfWorkFactory, price: str, paid: str
) -> None:
    intent = _intent(Money(price, "USD"), Money(paid, "ETH"))
    async with uow_factory() as uow:
        await uow.intents.add(intent)
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.intents.get(intent.id)

    assert str(stored.price) == f"{price} USD"
    assert stored.actually_paid is not None
    assert str(stored.actually_paid) == f"{paid} ETH"
    assert isinstance(stored.actually_paid.amount, Decimal)


async def test_times_from_any_zone_come_back_as_the_same_instant_in_utc(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    starts = datetime(2025, 3, 1, 18, 0, 0, 1, tzinfo=kolkata)
    subscription = Subscription(
        SubscriptionId("su0zones"),
        UserId(7_000_000_001),
        ChannelId("ch0zones"),
        1,
        starts,
        starts + timedelta(days=30),
    )
    async with uow_factory() as uow:
        await uow.payments.save(
            PaymentChanges(new_subscriptions=[subscription]), subscription.starts_at
        )
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.subscriptions.get(subscription.id)

    assert stored.starts_at == datetime(2025, 3, 1, 12, 30, 0, 1, tzinfo=UTC)
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert stored.expires_at - stored.starts_at == timedelta(days=30)


async def test_a_naive_time_is_refused_before_it_reaches_the_database(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the mistake under test
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="timezone-aware"):
            await uow.intents.unfinished_before(naive, 10)


async def test_the_payout_wallet_is_stored_encrypted(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, cipher: FernetCipher
) -> None:
    channel = make_channel()
    assert channel.payout_wallet is not None
    async with uow_factory() as uow:
        await uow.channels.add(channel)
        await uow.commit()

    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(channels_table.c.payout_wallet).where(channels_table.c.id == channel.id)
            )
        ).scalar_one()

    assert channel.payout_wallet.address.encode() not in stored
    assert json.loads(cipher.decrypt(stored)) == {
        "address": channel.payout_wallet.address,
        "currency": channel.payout_wallet.currency,
    }
    async with uow_factory() as uow:
        assert (await uow.channels.get(channel.id)).payout_wallet == channel.payout_wallet


async def test_a_wallet_stored_under_a_key_we_no_longer_hold_does_not_decrypt(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    channel = make_channel()
    async with uow_factory() as uow:
        await uow.channels.add(channel)
        await uow.commit()

    other_keys = SqlUnitOfWorkFactory(engine, make_cipher())
    async with other_keys() as uow:
        with pytest.raises(DecryptionFailed):
            await uow.channels.get(channel.id)


async def test_after_a_refused_write_the_unit_of_work_goes_on(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    # Postgres aborts a transaction at its first error; the adapter confines the
    # refused insert to a savepoint so the rest of the unit of work still commits.
    first = make_channel()
    clash = make_channel(open_chat=first.open_chat_id)
    after = make_channel()
    async with uow_factory() as uow:
        await uow.channels.add(first)
        with pytest.raises(Conflict):
            await uow.channels.add(clash)
        await uow.channels.add(after)
        await uow.commit()

    async with uow_factory() as uow:
        assert [c.id for c in await uow.channels.all()] == [first.id, after.id]
        assert await uow.channels.by_chat(clash.closed_chat_id) is None


async def test_leaving_without_commit_rolls_back(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    intent = _intent(Money("5", "USD"), None)
    async with uow_factory() as uow:
        await uow.intents.add(intent)

    async with engine.connect() as conn:
        rows = (await conn.execute(select(payment_intents.c.id))).all()
    assert rows == []


async def test_an_unreachable_postgres_is_unavailable() -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused.
    engine = create_engine("postgresql+asyncpg://paygate@127.0.0.1:1/paygate", pool_size=1)
    try:
        with pytest.raises(Unavailable) as raised:
            async with SqlUnitOfWorkFactory(engine, make_cipher())():
                pass
    finally:
        await engine.dispose()
    assert isinstance(raised.value.__cause__, OSError)


async def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "missing-folder" / "paygate.db"), pool_size=1)
    try:
        with pytest.raises(Unavailable):
            async with SqlUnitOfWorkFactory(engine, make_cipher())():
                pass
    finally:
        await engine.dispose()
        # aiosqlite stops the worker thread of a connection that failed to open by
        # posting back to the loop: let that land before this test's loop closes.
        for worker in threading.enumerate():
            if worker.name.endswith("(_connection_worker_thread)"):
                await asyncio.to_thread(worker.join, 5)


def test_an_in_memory_sqlite_database_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        create_engine("sqlite+aiosqlite://")
