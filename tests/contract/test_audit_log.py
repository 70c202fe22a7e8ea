"""AuditLog contract: append-only, hash-chained, never forked."""

from __future__ import annotations

import asyncio

from core.domain.audit import GENESIS_HASH, AuditEvent, AuditRecord, verify_chain
from core.ports.errors import Conflict
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import at, commit_with, read

HOLD = 0.05


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        actor=f"owner:{n}",
        action="tiers.update",
        subject="channel:ch000001",
        details={"tier": str(n), "price": "10.50 USD", "note": "prix réduit ✓"},
    )


async def _all(uow_factory: UnitOfWorkFactory) -> list[AuditEvent]:
    return list(await read(uow_factory, lambda uow: uow.audit.all()))


async def test_appends_in_one_unit_of_work_form_a_verified_chain(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def append_three(uow: UnitOfWork) -> None:
        for n in (1, 2, 3):
            await uow.audit.append(_record(n), at(minutes=n))

    await commit_with(uow_factory, append_three)
    stored = await _all(uow_factory)

    assert [e.seq for e in stored] == [1, 2, 3]
    assert [e.actor for e in stored] == ["owner:1", "owner:2", "owner:3"]
    assert [e.at for e in stored] == [at(minutes=n) for n in (1, 2, 3)]
    assert stored[0].prev_hash == GENESIS_HASH
    assert stored[2].details == {"tier": "3", "price": "10.50 USD", "note": "prix réduit ✓"}
    assert verify_chain(stored)


async def test_the_chain_continues_across_units_of_work(uow_factory: UnitOfWorkFactory) -> None:
    for n in range(1, 5):
        async with uow_factory() as uow:
            await uow.audit.append(_record(n), at(hours=n))
            await uow.commit()

    stored = await _all(uow_factory)

    assert [e.actor for e in stored] == ["owner:1", "owner:2", "owner:3", "owner:4"]
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert verify_chain(stored)


async def test_a_rolled_back_append_leaves_no_gap(uow_factory: UnitOfWorkFactory) -> None:
    await commit_with(uow_factory, lambda uow: uow.audit.append(_record(1), at(minutes=1)))
    async with uow_factory() as uow:
        await uow.audit.append(_record(2), at(minutes=2))

    await commit_with(uow_factory, lambda uow: uow.audit.append(_record(3), at(minutes=3)))
    stored = await _all(uow_factory)

    assert [(e.seq, e.actor) for e in stored] == [(1, "owner:1"), (2, "owner:3")]
    assert verify_chain(stored)


async def test_changing_appended_or_read_details_changes_nothing_stored(
    uow_factory: UnitOfWorkFactory,
) -> None:
    record = _record(1)
    await commit_with(uow_factory, lambda uow: uow.audit.append(record, at()))
    record.details["tier"] = "tampered"  # type: ignore[index]
    (await _all(uow_factory))[0].details["note"] = "tampered"  # type: ignore[index]

    stored = await _all(uow_factory)
    assert stored[0].details["tier"] == "1"
    assert stored[0].details["note"] == "prix réduit ✓"
    assert verify_chain(stored)


async def test_racing_appenders_never_fork_the_chain(uow_factory: UnitOfWorkFactory) -> None:
    async def append(n: int) -> bool:
        try:
            async with uow_factory() as uow:
                await uow.audit.append(_record(n), at(seconds=n))
                await asyncio.sleep(HOLD)
                await uow.commit()
        except Conflict:
            # A store may refuse the second of two appenders instead of serialising them.
            return False
        return True

    committed = await asyncio.gather(*(append(n) for n in (1, 2, 3)))
    stored = await _all(uow_factory)

    assert len(stored) == sum(committed) >= 1
    assert verify_chain(stored)
