"""SubscriptionRepository contract: one per user and channel, swept in keyset pages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.domain.channel import Channel
from core.domain.ids import SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.errors import Conflict, NotFound
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.builders import (
    OTHER_USER,
    USER,
    at,
    commit_with,
    given_channel,
    make_subscription,
    read,
    saving,
)


@pytest.fixture
async def channel(uow_factory: UnitOfWorkFactory) -> Channel:
    return await given_channel(uow_factory)


async def _add(uow_factory: UnitOfWorkFactory, *subscriptions: Subscription) -> None:
    await commit_with(uow_factory, saving(PaymentChanges(new_subscriptions=subscriptions)))


async def _get(uow_factory: UnitOfWorkFactory, subscription_id: SubscriptionId) -> Subscription:
    return await read(uow_factory, lambda uow: uow.subscriptions.get(subscription_id))


async def test_a_committed_subscription_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription = make_subscription(channel)
    await _add(uow_factory, subscription)

    stored = await _get(uow_factory, subscription.id)

    assert stored == subscription
    assert stored.reminders_sent == frozenset({24, 72})
    assert stored.expires_at.utcoffset() == timedelta(0)


async def test_a_subscription_is_found_by_user_and_channel(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    other_channel = await given_channel(uow_factory)
    mine = make_subscription(channel, user_id=USER)
    mine_elsewhere = make_subscription(other_channel, user_id=USER)
    theirs = make_subscription(channel, user_id=OTHER_USER)
    await _add(uow_factory, mine, mine_elsewhere, theirs)

    found = await read(uow_factory, lambda uow: uow.subscriptions.find(USER, channel.id))
    missing = await read(uow_factory, lambda uow: uow.subscriptions.find(UserId(1), channel.id))
    by_user = await read(uow_factory, lambda uow: uow.subscriptions.for_user(USER))
    by_channel = await read(uow_factory, lambda uow: uow.subscriptions.for_channel(channel.id))

    assert found == mine
    assert missing is None
    assert sorted(s.id for s in by_user) == sorted([mine.id, mine_elsewhere.id])
    assert sorted(s.id for s in by_channel) == sorted([mine.id, theirs.id])


async def test_unknown_subscriptions_raise_not_found(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    ghost = make_subscription(channel)
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.subscriptions.get(ghost.id))
    with pytest.raises(NotFound):
        await read(uow_factory, lambda uow: uow.subscriptions.update(ghost))


async def test_a_user_has_at_most_one_subscription_per_channel(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    first = make_subscription(channel)
    await _add(uow_factory, first)
    second = make_subscription(channel, expires_at=at(days=90))

    with pytest.raises(Conflict):
        await _add(uow_factory, second)

    found = await read(uow_factory, lambda uow: uow.subscriptions.find(USER, channel.id))
    assert found == first


async def test_a_committed_extension_is_what_everyone_reads(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription = make_subscription(channel, expires_at=at(days=3))
    await _add(uow_factory, subscription)
    subscription.extend(timedelta(days=30), tier=3, now=at(days=1))
    subscription.mark_reminded(48)

    await commit_with(uow_factory, lambda uow: uow.subscriptions.update(subscription))
    stored = await _get(uow_factory, subscription.id)

    assert stored == subscription
    assert stored.expires_at == at(days=33)
    assert stored.reminders_sent == frozenset({48})


async def test_an_update_bumps_the_version_in_the_store_and_on_the_object(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription = make_subscription(channel)
    await _add(uow_factory, subscription)
    subscription.mark_reminded(12)

    await commit_with(uow_factory, lambda uow: uow.subscriptions.update(subscription))

    assert subscription.version == 1
    assert (await _get(uow_factory, subscription.id)).version == 1


async def test_an_update_from_a_stale_read_is_refused_and_the_newer_write_kept(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription = make_subscription(channel, expires_at=at(days=3))
    await _add(uow_factory, subscription)
    sweeper_copy = await _get(uow_factory, subscription.id)
    renewal_copy = await _get(uow_factory, subscription.id)
    renewal_copy.extend(timedelta(days=30), tier=1, now=at(days=1))
    await commit_with(uow_factory, lambda uow: uow.subscriptions.update(renewal_copy))

    sweeper_copy.revoke()
    with pytest.raises(Conflict):
        await commit_with(uow_factory, lambda uow: uow.subscriptions.update(sweeper_copy))

    stored = await _get(uow_factory, subscription.id)
    assert (stored.status, stored.expires_at) == (SubscriptionStatus.ACTIVE, at(days=33))


async def test_updating_an_unknown_subscription_raises_not_found(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    with pytest.raises(NotFound):
        await commit_with(
            uow_factory, lambda uow: uow.subscriptions.update(make_subscription(channel))
        )


async def test_changing_a_returned_subscription_changes_nothing_until_updated(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    subscription = make_subscription(channel)
    await _add(uow_factory, subscription)

    async with uow_factory() as uow:
        loaded = await uow.subscriptions.get(subscription.id)
        loaded.revoke()
        await uow.commit()

    assert (await _get(uow_factory, subscription.id)).status is SubscriptionStatus.ACTIVE


async def _sweep(
    uow_factory: UnitOfWorkFactory, cutoff: datetime, page_size: int, max_pages: int
) -> list[list[SubscriptionId]]:
    """Page through the sweep as the expiry worker does; a backend whose keyset does not
    move forward fails here instead of looping."""
    pages: list[list[SubscriptionId]] = []
    after: tuple[datetime, SubscriptionId] | None = None
    for _ in range(max_pages + 1):
        async with uow_factory() as uow:
            page = await uow.subscriptions.active_expiring_before(cutoff, after, page_size)
        if not page:
            return pages
        assert len(page) <= page_size
        pages.append([s.id for s in page])
        after = (page[-1].expires_at, page[-1].id)
    pytest.fail(f"the sweep did not end after {max_pages} pages: {pages[:5]}...")


async def test_the_expiry_sweep_pages_active_subscriptions_by_end_then_id(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    def sub(sid: str, user: int, expires: datetime, status: SubscriptionStatus) -> Subscription:
        return make_subscription(
            channel, subscription_id=sid, user_id=UserId(user), expires_at=expires, status=status
        )

    active = SubscriptionStatus.ACTIVE
    due = [
        sub("sub05", 5, at(days=1), active),
        sub("sub02", 2, at(days=1), active),  # same end: the id decides
        sub("sub09", 9, at(days=1), active),
        sub("sub01", 1, at(days=2), active),
        sub("sub07", 7, at(days=3), active),  # exactly at the cutoff: included
    ]
    not_due = [
        sub("sub03", 3, at(days=3, microseconds=1), active),
        sub("sub04", 4, at(days=1), SubscriptionStatus.EXPIRED),
        sub("sub06", 6, at(hours=1), SubscriptionStatus.REVOKED),
    ]
    await _add(uow_factory, *not_due, *due)

    pages = await _sweep(uow_factory, at(days=3), page_size=2, max_pages=3)

    assert pages == [["sub02", "sub05"], ["sub09", "sub01"], ["sub07"]]


async def test_a_keyset_inside_a_tie_continues_after_that_id(
    uow_factory: UnitOfWorkFactory, channel: Channel
) -> None:
    same_end = at(days=1)
    subscriptions = [
        make_subscription(
            channel, subscription_id=f"sub0{n}", user_id=UserId(n), expires_at=same_end
        )
        for n in (1, 2, 3)
    ]
    await _add(uow_factory, *subscriptions)
    keyset = (same_end, SubscriptionId("sub01"))

    page = await read(
        uow_factory, lambda uow: uow.subscriptions.active_expiring_before(at(days=2), keyset, 10)
    )

    assert [s.id for s in page] == ["sub02", "sub03"]
