"""ChannelRepository contract: every backend keeps channel pairs the same way."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.channel import OfferPost
from core.domain.ids import ChannelId, ChatId, MessageId, UserId
from core.domain.money import Money
from core.domain.stars_link import StarsLink, stars_link_price
from core.domain.tier import Tier
from core.ports.errors import Conflict, NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import OWNER, at, commit_with, fresh_chat, make_channel, read


async def test_a_committed_channel_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert stored == channel
    assert stored.tiers[0].price == Money(Decimal("10.50"), "USD")
    assert stored.tiers[0].price.currency == "USD"
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_channel_is_found_by_its_open_chat_and_by_its_closed_chat(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))

    by_open = await read(uow_factory, lambda uow: uow.channels.by_chat(channel.open_chat_id))
    by_closed = await read(uow_factory, lambda uow: uow.channels.by_chat(channel.closed_chat_id))
    by_other = await read(uow_factory, lambda uow: uow.channels.by_chat(fresh_chat()))

    assert by_open == channel
    assert by_closed == channel
    assert by_other is None


async def test_channels_are_listed_by_owner_and_all_together(
    uow_factory: UnitOfWorkFactory,
) -> None:
    mine = [make_channel(owner_id=OWNER), make_channel(owner_id=OWNER)]
    theirs = make_channel(owner_id=UserId(99))

    async def add_all(uow: UnitOfWork) -> None:
        for channel in [*mine, theirs]:
            await uow.channels.add(channel)

    await commit_with(uow_factory, add_all)

    owned = await read(uow_factory, lambda uow: uow.channels.by_owner(OWNER))
    everything = await read(uow_factory, lambda uow: uow.channels.all())
    nobodys = await read(uow_factory, lambda uow: uow.channels.by_owner(UserId(12345)))

    assert sorted(c.id for c in owned) == sorted(c.id for c in mine)
    assert sorted(c.id for c in everything) == sorted(c.id for c in [*mine, theirs])
    assert list(nobodys) == []


async def test_getting_an_unknown_channel_raises_not_found(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.channels.get(ChannelId("nosuchchannel")))


async def test_updating_an_unknown_channel_raises_not_found(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.channels.update(make_channel()))


async def test_a_committed_update_is_what_everyone_reads(uow_factory: UnitOfWorkFactory) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    channel.set_tiers((Tier(1, Money(Decimal("4.99"), "USD"), 7),))
    channel.pause_sales("the bot lost its admin rights")
    channel.record_offer_post(MessageId(555), at(hours=2))
    channel.set_donation_bounds(None)
    channel.payout_wallet = None

    await commit_with(uow_factory, lambda uow: uow.channels.update(channel))
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert stored == channel
    assert stored.tiers_version == 4
    assert stored.pause_reason == "the bot lost its admin rights"


async def test_a_tiers_stars_price_reads_back_beside_its_crypto_price(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    stars = Tier(1, Money(Decimal("10"), "USD"), 30, Money(250, "XTR"))
    channel.set_tiers((stars, Tier(2, Money(Decimal("25"), "USD"), 90)))

    await commit_with(uow_factory, lambda uow: uow.channels.update(channel))
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    listed = await read(uow_factory, lambda uow: uow.channels.by_owner(channel.owner_id))

    assert [t.stars_price for t in stored.tiers] == [Money(250, "XTR"), None]
    assert [t.stars_price for t in listed[0].tiers] == [Money(250, "XTR"), None]


async def test_a_post_is_recorded_only_over_the_one_its_publisher_saw_standing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    channel.offer_post = channel.donate_post = None  # nothing posted yet
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    first = OfferPost(MessageId(10), at(hours=1), channel.tiers_version)
    racer = OfferPost(MessageId(11), at(hours=1), channel.tiers_version)
    newer = OfferPost(MessageId(12), at(hours=2), channel.tiers_version)

    async def record(post: OfferPost, previous: MessageId | None, donate: bool = False) -> bool:
        return await commit_with(
            uow_factory, lambda uow: uow.channels.record_post(channel.id, donate, post, previous)
        )

    assert await record(first, None)
    assert not await record(racer, None)  # planned from the same state, lost
    assert await record(newer, MessageId(10))
    assert await record(racer, None, donate=True)  # the Donate message is another slot
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert stored.offer_post == newer
    assert stored.donate_post == racer
    assert stored.tiers == channel.tiers
    assert not await read(
        uow_factory,
        lambda uow: uow.channels.record_post(ChannelId("nosuch"), False, first, None),
    )


async def test_a_post_taken_down_is_cleared_only_if_it_still_stands(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    channel.offer_post = channel.donate_post = None
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    offer = OfferPost(MessageId(10), at(hours=1), channel.tiers_version)
    donate = OfferPost(MessageId(20), at(hours=1), channel.tiers_version)
    replacement = OfferPost(MessageId(11), at(hours=2), channel.tiers_version)

    async def record(post: OfferPost | None, previous: MessageId | None, donate: bool) -> bool:
        return await commit_with(
            uow_factory, lambda uow: uow.channels.record_post(channel.id, donate, post, previous)
        )

    assert await record(offer, None, donate=False)
    assert await record(donate, None, donate=True)
    assert await record(None, MessageId(20), donate=True)  # the Donate message taken down
    assert await record(replacement, MessageId(10), donate=False)
    # A take-down planned while message 10 stood, recorded after it was replaced: lost.
    assert not await record(None, MessageId(10), donate=False)
    assert not await record(None, MessageId(20), donate=True)  # already taken down
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert stored.offer_post == replacement
    assert stored.donate_post is None
    assert await record(None, MessageId(11), donate=False)
    cleared = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert (cleared.offer_post, cleared.donate_post) == (None, None)
    assert cleared.tiers == channel.tiers
    assert await record(offer, None, donate=False)  # and a new one can be posted again


async def test_racing_publishers_of_one_post_have_one_winner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    channel.offer_post = channel.donate_post = None  # nothing posted yet
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))

    async def publish(n: int) -> bool:
        post = OfferPost(MessageId(100 + n), at(hours=1), channel.tiers_version)
        async with uow_factory() as uow:
            won = await uow.channels.record_post(channel.id, False, post, None)
            await asyncio.sleep(0.01)
            await uow.commit()
        return won

    outcomes = await asyncio.gather(*(publish(n) for n in range(5)))
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))

    assert outcomes.count(True) == 1
    assert stored.offer_post is not None
    assert stored.offer_post.message_id == MessageId(100 + outcomes.index(True))


@pytest.mark.parametrize("reused", ["open", "closed"])
@pytest.mark.parametrize("role", ["open", "closed"])
async def test_a_chat_of_a_registered_pair_cannot_join_another_pair(
    uow_factory: UnitOfWorkFactory, reused: str, role: str
) -> None:
    existing = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(existing))
    chat = existing.open_chat_id if reused == "open" else existing.closed_chat_id
    clash = make_channel(open_chat=chat) if role == "open" else make_channel(closed_chat=chat)

    with pytest.raises(Conflict):
        await commit_with(uow_factory, lambda uow: uow.channels.add(clash))

    everything = await read(uow_factory, lambda uow: uow.channels.all())
    assert [c.id for c in everything] == [existing.id]


async def test_two_new_pairs_sharing_a_chat_in_one_unit_of_work_are_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = make_channel()
    second = make_channel(open_chat=first.closed_chat_id)

    async def add_both(uow: UnitOfWork) -> None:
        await uow.channels.add(first)
        await uow.channels.add(second)

    with pytest.raises(Conflict):
        await commit_with(uow_factory, add_both)

    assert list(await read(uow_factory, lambda uow: uow.channels.all())) == []


async def test_a_channel_id_cannot_be_added_twice(uow_factory: UnitOfWorkFactory) -> None:
    existing = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(existing))
    same_id = make_channel(channel_id=existing.id)

    with pytest.raises(Conflict):
        await commit_with(uow_factory, lambda uow: uow.channels.add(same_id))

    stored = await read(uow_factory, lambda uow: uow.channels.get(existing.id))
    assert stored.open_chat_id == existing.open_chat_id


async def test_changing_a_returned_channel_changes_nothing_until_updated(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))

    async with uow_factory() as uow:
        loaded = await uow.channels.get(channel.id)
        loaded.pause_sales("edited but never saved")
        again = await uow.channels.get(channel.id)
        await uow.commit()

    assert again.sales_paused is False
    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert stored.sales_paused is False


async def test_changing_a_channel_after_adding_it_changes_nothing_stored(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel()
    async with uow_factory() as uow:
        await uow.channels.add(channel)
        channel.title = "renamed after add"
        channel.closed_chat_id = ChatId(-1)
        await uow.commit()

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert stored.title == make_channel().title
    assert stored.closed_chat_id != ChatId(-1)


async def test_a_channel_moved_to_a_new_owner_is_listed_under_them_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    channel = make_channel(owner_id=UserId(98))
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    await read(uow_factory, lambda uow: uow.channels.by_owner(UserId(98)))  # read-ahead warm
    channel.transfer_to(UserId(97), None)

    await commit_with(uow_factory, lambda uow: uow.channels.update(channel))

    old = await read(uow_factory, lambda uow: uow.channels.by_owner(UserId(98)))
    new = await read(uow_factory, lambda uow: uow.channels.by_owner(UserId(97)))
    assert (list(old), [c.id for c in new]) == ([], [channel.id])
    assert (new[0].payout_wallet, new[0].tiers) == (None, channel.tiers)


async def test_a_stars_link_is_kept_and_cleared(uow_factory: UnitOfWorkFactory) -> None:
    channel = make_channel()
    await commit_with(uow_factory, lambda uow: uow.channels.add(channel))
    channel.set_stars_link(StarsLink("https://t.me/+abcdEFGH1234", stars_link_price(750)))
    await commit_with(uow_factory, lambda uow: uow.channels.update(channel))

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert stored.stars_link == StarsLink("https://t.me/+abcdEFGH1234", Money.of("750", "XTR"))

    stored.set_stars_link(None)
    await commit_with(uow_factory, lambda uow: uow.channels.update(stored))
    cleared = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert cleared.stars_link is None
