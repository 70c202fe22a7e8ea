"""SubscriberDirectory and PersonNames contract: keyset pages of subscriptions by
channel, status and person (newest end first, no row twice or missed across pages),
people found by the username they showed the bot, a subscriber's audit trail; in
memory, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import attrs
import pytest

from adapters.outbound.memory import InMemoryStore, InMemoryUnitOfWorkFactory
from adapters.outbound.memory.subscriber_directory import (
    InMemoryPersonNames,
    InMemorySubscriberDirectory,
)
from adapters.outbound.sqla.subscriber_directory import SqlPersonNames, SqlSubscriberDirectory
from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.subscriber_directory import (
    DirectoryQuery,
    PersonNames,
    SubscriberDirectory,
    SubscriberKey,
    SubscriberRow,
    folded_username,
)
from tests.contract.backends_sql import postgres_engine, sql_uow, sqlite_engine
from tests.contract.builders import (
    at,
    commit_with,
    fresh_user,
    make_channel,
    make_subscription,
    saving,
)


@attrs.frozen
class Directory:
    uow: UnitOfWorkFactory
    directory: SubscriberDirectory
    names: PersonNames


@asynccontextmanager
async def _memory() -> AsyncIterator[Directory]:
    store = InMemoryStore()
    names = InMemoryPersonNames()
    yield Directory(
        InMemoryUnitOfWorkFactory(store), InMemorySubscriberDirectory(store, names), names
    )


@asynccontextmanager
async def _sqlite() -> AsyncIterator[Directory]:
    async with sqlite_engine() as engine:
        yield Directory(sql_uow(engine), SqlSubscriberDirectory(engine), SqlPersonNames(engine))


@asynccontextmanager
async def _postgres() -> AsyncIterator[Directory]:
    async with postgres_engine() as engine:
        yield Directory(sql_uow(engine), SqlSubscriberDirectory(engine), SqlPersonNames(engine))


OPENERS = {"memory": _memory, "sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture(params=list(OPENERS))
async def world(request: pytest.FixtureRequest) -> AsyncIterator[Directory]:
    async with OPENERS[request.param]() as opened:
        yield opened


async def _channel(world: Directory) -> Channel:
    channel = make_channel()
    await commit_with(world.uow, lambda uow: uow.channels.add(channel))
    return channel


async def _subscribe(world: Directory, subs: list[Subscription]) -> None:
    await commit_with(world.uow, saving(PaymentChanges(new_subscriptions=subs)))


async def _walk(world: Directory, query: DirectoryQuery, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    after: SubscriberKey | None = None
    while True:
        rows = list(await world.directory.page(query, after, limit))
        if not rows:
            return pages
        pages.append([r.subscription.id for r in rows])
        last = rows[-1].subscription
        after = (last.expires_at, last.id)


async def test_pages_walk_a_channel_newest_end_first_without_repeats_or_gaps(
    world: Directory,
) -> None:
    channel, other = await _channel(world), await _channel(world)
    # Two share an end: the id breaks the tie, so neither is lost between pages.
    ends = [at(days=d) for d in (5, 1, 9, 9, 3, 7, 2)]
    subs = [make_subscription(channel, user_id=fresh_user(), expires_at=e) for e in ends]
    await _subscribe(world, [*subs, make_subscription(other, user_id=fresh_user())])

    pages = await _walk(world, DirectoryQuery((channel.id,)), limit=3)

    expected = [s.id for s in sorted(subs, key=lambda s: (s.expires_at, s.id), reverse=True)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == expected


async def test_an_owner_s_channels_merge_into_one_order(world: Directory) -> None:
    first, second, third = await _channel(world), await _channel(world), await _channel(world)
    subs = [
        make_subscription(c, user_id=fresh_user(), expires_at=at(days=d))
        for c, d in ((first, 1), (second, 2), (first, 3), (second, 4), (third, 5))
    ]
    await _subscribe(world, subs)

    pages = await _walk(world, DirectoryQuery((first.id, second.id)), limit=2)

    assert [i for page in pages for i in page] == [subs[3].id, subs[2].id, subs[1].id, subs[0].id]


async def test_every_channel_when_no_channel_is_named(world: Directory) -> None:
    first, second = await _channel(world), await _channel(world)
    subs = [make_subscription(c, user_id=fresh_user()) for c in (first, second)]
    await _subscribe(world, subs)

    rows = await world.directory.page(DirectoryQuery(None), None, 50)

    assert {s.id for s in subs} <= {r.subscription.id for r in rows}


async def test_a_status_and_a_person_narrow_the_page(world: Directory) -> None:
    channel = await _channel(world)
    active = make_subscription(channel, user_id=fresh_user())
    expired = make_subscription(
        channel, user_id=fresh_user(), status=SubscriptionStatus.EXPIRED, expires_at=at(days=-1)
    )
    revoked = make_subscription(channel, user_id=fresh_user(), status=SubscriptionStatus.REVOKED)
    await _subscribe(world, [active, expired, revoked])

    def ids(rows: Sequence[SubscriberRow]) -> list[str]:
        return [r.subscription.id for r in rows]

    by_status = DirectoryQuery((channel.id,), SubscriptionStatus.EXPIRED)
    assert ids(await world.directory.page(by_status, None, 10)) == [expired.id]
    by_person = DirectoryQuery((channel.id,), None, (revoked.user_id,))
    assert ids(await world.directory.page(by_person, None, 10)) == [revoked.id]
    wrong_status = DirectoryQuery((channel.id,), SubscriptionStatus.ACTIVE, (revoked.user_id,))
    assert ids(await world.directory.page(wrong_status, None, 10)) == []
    assert ids(await world.directory.page(DirectoryQuery((channel.id,), None, ()), None, 10)) == []
    assert ids(await world.directory.page(DirectoryQuery(()), None, 10)) == []


async def test_a_username_finds_its_person_and_shows_on_their_rows(world: Directory) -> None:
    channel = await _channel(world)
    sub = make_subscription(channel, user_id=fresh_user())
    await _subscribe(world, [sub])

    await world.names.note(sub.user_id, "@Ann_Smith")

    assert await world.names.name_of(sub.user_id) == "ann_smith"
    assert list(await world.directory.users_named("ann_smith")) == [sub.user_id]
    rows = await world.directory.page(DirectoryQuery((channel.id,)), None, 10)
    assert [(r.subscription.id, r.username) for r in rows] == [(sub.id, "ann_smith")]


async def test_a_new_username_replaces_the_old_and_none_forgets_it(world: Directory) -> None:
    user = fresh_user()
    await world.names.note(user, "first_name")
    await world.names.note(user, "second_name")
    assert list(await world.directory.users_named("first_name")) == []
    assert list(await world.directory.users_named("second_name")) == [user]

    await world.names.note(user, None)

    assert await world.names.name_of(user) is None
    assert await world.names.forget(user) is False


async def test_a_username_taken_by_someone_else_is_no_longer_the_first_holder_s(
    world: Directory,
) -> None:
    first, second = fresh_user(), fresh_user()
    await world.names.note(first, "handed_on")
    await world.names.note(second, "Handed_On")

    assert list(await world.directory.users_named("handed_on")) == [second]
    assert await world.names.name_of(first) is None


async def test_forgetting_a_person_s_name_says_whether_one_was_kept(world: Directory) -> None:
    user = fresh_user()
    await world.names.note(user, "kept_name")
    assert await world.names.forget(user) is True
    assert await world.names.name_of(user) is None


async def test_a_name_that_cannot_be_a_username_is_refused(world: Directory) -> None:
    with pytest.raises(ValueError, match="not a Telegram username"):
        await world.names.note(UserId(5), "no spaces allowed")


async def test_the_audit_trail_about_given_subjects_newest_first(world: Directory) -> None:
    async def record(uow: UnitOfWork) -> None:
        for subject in ("subscription:a", "grant:b", "subscription:zz", "intent:c"):
            await uow.audit.append(AuditRecord("system", "x.y", subject), at())

    await commit_with(world.uow, record)

    found = await world.directory.audit_about(["subscription:a", "grant:b", "intent:c"], 2)
    assert [e.subject for e in found] == ["intent:c", "grant:b"]
    assert list(await world.directory.audit_about([], 5)) == []


def test_usernames_are_folded_as_telegram_compares_them() -> None:
    assert folded_username(" @Ann_Smith ") == "ann_smith"
    assert folded_username("abc") is None  # too short
    assert folded_username("ann-smith") is None
    assert folded_username("a" * 33) is None
