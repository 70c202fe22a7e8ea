"""ChannelRepository.get_many contract: the channels of a batch of notifications in one read."""

from __future__ import annotations

from core.domain.ids import ChannelId
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import commit_with, given_channel, make_channel, read


async def test_getting_no_channels_finds_none(uow_factory: UnitOfWorkFactory) -> None:
    await given_channel(uow_factory)

    assert dict(await read(uow_factory, lambda uow: uow.channels.get_many([]))) == {}


async def test_get_many_finds_every_committed_channel_asked_for_by_id(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first, second, not_asked = [await given_channel(uow_factory) for _ in range(3)]

    found = await read(uow_factory, lambda uow: uow.channels.get_many([second.id, first.id]))

    assert dict(found) == {first.id: first, second.id: second}
    assert not_asked.id not in found


async def test_get_many_leaves_out_channels_that_do_not_exist(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = await given_channel(uow_factory)
    ghost = ChannelId("ch999999")

    found = await read(uow_factory, lambda uow: uow.channels.get_many({ghost, channel.id}))

    assert dict(found) == {channel.id: channel}


async def test_get_many_sees_a_channel_once_committed_and_never_one_rolled_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    committed, rolled_back = make_channel(), make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(committed))
    async with uow_factory() as uow:
        await uow.channels.add(rolled_back)

    ids = [committed.id, rolled_back.id]
    found = await read(uow_factory, lambda uow: uow.channels.get_many(ids))

    assert dict(found) == {committed.id: committed}
