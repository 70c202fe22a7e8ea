"""The Subscribers section's use cases over the in-memory store: grants by hand
through the paid-period path (a new period gets a grant, a race is retried), a
revocation whose removal is dropped when the person pays again before it runs,
refusals that change nothing, and the search's keys and words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.memory.chat_access import ChatAction, ChatCall
from adapters.outbound.memory.dashboard import InMemoryChannelFigures
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.subscriber_directory import (
    InMemoryPersonNames,
    InMemorySubscriberDirectory,
)
from adapters.outbound.memory.unit_of_work import InMemoryUnitOfWorkFactory
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, InvalidTransition, UnknownChannel
from core.domain.ids import ChatId, SubscriptionId, UserId
from core.domain.outbox import IssueInvite
from core.domain.subscription import SubscriptionStatus
from core.ports.errors import Conflict
from core.services.dashboard import OwnerDashboard, Viewer
from core.services.dashboard_subscriber_actions import SubscriberActions
from core.services.dashboard_subscribers import (
    InvalidSearch,
    SubscriberSearch,
    UnknownSubscriber,
    decode_key,
    encode_key,
)
from core.services.subscriber_status import NoActiveSubscription
from tests.unit.services.world import (
    CLOSED,
    KEYRING,
    OWNER,
    CountingUnitOfWorkFactory,
    World,
    build,
)

PERSON = UserId(3003)
OPERATOR = UserId(9)


class Section:
    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.counting = CountingUnitOfWorkFactory(InMemoryUnitOfWorkFactory(self.store))
        self.world: World = build(uow=self.counting)
        w = self.world
        self.owners = OwnerDashboard(
            w.uow,
            w.clock,
            InMemoryChannelFigures(self.store),
            w.sales,
            w.resume_sales,
            frozenset({OPERATOR}),
        )
        self.names = InMemoryPersonNames()
        directory = InMemorySubscriberDirectory(self.store, self.names)
        self.search = SubscriberSearch(w.uow, self.owners, directory, self.names)
        ids = SequentialIdGenerator("comp")
        self.actions = SubscriberActions(w.uow, w.clock, ids, KEYRING, self.owners)

    async def paid(self, channel: Channel) -> None:
        await self.world.pay(await self.world.checkout.execute(PERSON, channel.id, 1))
        await self.world.drain()


@pytest.fixture
def section() -> Section:
    return Section()


OWNED = Viewer(OWNER)


async def test_a_grant_to_an_expired_subscriber_starts_a_new_period_with_its_grant(
    section: Section,
) -> None:
    channel = await section.world.channel()
    await section.paid(channel)
    section.world.clock.advance(timedelta(days=31))
    await section.world.expire.execute()

    sub = await section.actions.grant(OWNED, channel.id, PERSON, 3, "welcome back")

    assert sub.status is SubscriptionStatus.ACTIVE and sub.period == 2
    assert sub.expires_at == section.world.clock.now() + timedelta(days=3)
    invites = [e for e in await section.world.effects() if isinstance(e, IssueInvite)]
    assert len(invites) == 1
    actions = await section.world.audit_actions()
    assert actions[-2:] == ["subscription.comp", "grant.queued"]


async def test_a_grant_that_lost_a_race_is_worked_out_again(section: Section) -> None:
    channel = await section.world.channel()
    section.counting.refusals.append(Conflict("a payment moved it meanwhile"))

    sub = await section.actions.grant(OWNED, channel.id, PERSON, 5, "gift")

    async with section.world.uow() as tx:
        stored = await tx.subscriptions.find(PERSON, channel.id)
    assert stored is not None and stored.expires_at == sub.expires_at


async def test_a_revocation_is_dropped_when_the_person_pays_again_before_it_runs(
    section: Section,
) -> None:
    channel = await section.world.channel()
    await section.paid(channel)
    await section.actions.revoke(OWNED, channel.id, PERSON, "chargeback")

    await section.paid(channel)  # paid again before the worker ran the removal

    assert ChatCall(ChatAction.REMOVE, CLOSED, PERSON) not in section.world.chat.calls
    texts = [m.message.text for m in section.world.messenger.sent if m.chat_id == ChatId(PERSON)]
    assert not any("has ended" in t for t in texts), texts


async def test_refusals_change_nothing(section: Section) -> None:
    channel = await section.world.channel()
    await section.paid(channel)
    before = await section.world.audit_actions()

    with pytest.raises(InvalidChannel, match="reason_missing"):
        await section.actions.revoke(OWNED, channel.id, PERSON, " ")
    with pytest.raises(InvalidChannel, match="grant_days"):
        await section.actions.grant(OWNED, channel.id, PERSON, 0, "zero")
    with pytest.raises(UnknownSubscriber):
        await section.actions.resend(OWNED, channel.id, UserId(77), "who")
    await section.actions.revoke(OWNED, channel.id, PERSON, "done")
    with pytest.raises(InvalidTransition):
        await section.actions.revoke(OWNED, channel.id, PERSON, "again")
    with pytest.raises(NoActiveSubscription):
        await section.actions.resend(OWNED, channel.id, PERSON, "after revoking")
    with pytest.raises(UnknownChannel):
        await section.actions.grant(Viewer(UserId(5)), channel.id, PERSON, 1, "not mine")

    assert await section.world.audit_actions() == [*before, "subscription.revoked"]


async def test_the_search_names_people_by_id_or_username_and_refuses_other_words(
    section: Section,
) -> None:
    channel = await section.world.channel()
    await section.paid(channel)
    await section.names.note(PERSON, "reader_one")

    by_name = await section.search.find(OWNED, "@Reader_One")
    by_id = await section.search.find(Viewer(OPERATOR, operator=True), str(PERSON))
    nobody = await section.search.find(OWNED, "someone_else")

    assert [r.subscription.user_id for r in by_name.rows] == [PERSON]
    assert by_name.named == (PERSON,) and [r.username for r in by_name.rows] == ["reader_one"]
    assert [r.subscription.user_id for r in by_id.rows] == [PERSON]
    assert (nobody.rows, nobody.named) == ((), ())
    with pytest.raises(InvalidSearch):
        await section.search.find(OWNED, "two words")


def test_a_page_key_survives_its_link_and_a_forged_one_is_refused() -> None:
    key = (datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), SubscriptionId("abc123"))
    assert decode_key(encode_key(key)) == key
    for forged in ("", "12", "x_abc", "12_a-b", "1" * 30 + "_abc"):
        with pytest.raises(InvalidSearch):
            decode_key(forged)
