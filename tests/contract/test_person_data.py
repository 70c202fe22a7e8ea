"""PersonRepository contract, and the use cases over it (ExportPerson, ErasePerson):
a person's rows are found by user id, pseudonymized where the books keep them and
deleted where nothing else needs them, atomically with the unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.conversations import InMemoryConversationStore
from adapters.outbound.memory.languages import InMemoryLanguageBook
from adapters.outbound.memory.subscriber_directory import InMemoryPersonNames
from core.domain.audit import AuditRecord
from core.domain.ids import ChatId, UserId
from core.domain.payment import Purpose
from core.domain.seller import SellerRequest
from core.domain.signing import MacKeyring
from core.domain.stars_renewal import StarsRenewal
from core.domain.subscription import SubscriptionStatus
from core.ports.api_tokens import ApiScope, ApiToken
from core.ports.conversations import Conversation
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services.person_data import (
    ERASED_PAUSE_REASON,
    ErasePerson,
    ExportPerson,
    PersonDataRefused,
    pseudonym_of,
)
from tests.contract.builders import (
    T0,
    at,
    commit_with,
    fresh,
    fresh_user,
    given_channel,
    make_donation,
    make_event,
    make_grant,
    make_intent,
    make_subscription,
    read,
    saving,
)

KEYRING = MacKeyring((b"k" * 32,))


async def _journey(uow_factory: UnitOfWorkFactory, user: UserId, *, active: bool) -> None:
    """A channel, a paid subscription intent with its event, a subscription with a
    granted invite link, a donation and a request to sell, all of ``user``."""
    channel = await given_channel(uow_factory)
    intent = make_intent(channel, user_id=user)
    gift = make_intent(channel, user_id=user, purpose=Purpose.DONATION)
    expires = at(days=30) if active else at(days=-1)
    status = SubscriptionStatus.ACTIVE if active else SubscriptionStatus.EXPIRED
    sub = make_subscription(channel, user_id=user, expires_at=expires, status=status)
    grant = make_grant(sub)
    grant.issue_link("https://t.me/+personal", None)

    async def add_intents(uow: UnitOfWork) -> None:
        await uow.intents.add(intent)
        await uow.intents.add(gift)
        await uow.sellers.add(SellerRequest(user, "Ada Lovelace @ada", T0))
        await uow.stars_renewals.add(StarsRenewal(fresh("stx"), user, channel.id, 1, T0))

    await commit_with(uow_factory, add_intents)
    changes = PaymentChanges(
        events=[make_event(intent, payment_id=fresh("pay"))],
        new_subscriptions=[sub],
        grants=[grant],
        donations=[make_donation(gift)],
        audit=[AuditRecord(f"user:{user}", "intent.created", f"intent:{intent.id}")],
    )
    await commit_with(uow_factory, saving(changes))


async def test_a_persons_rows_are_found_by_user_id(uow_factory: UnitOfWorkFactory) -> None:
    user = fresh_user()
    await _journey(uow_factory, user, active=True)
    await _journey(uow_factory, fresh_user(), active=True)

    intents = await read(uow_factory, lambda uow: uow.people.intents_of(user))
    grants = await read(uow_factory, lambda uow: uow.people.grants_of(user))
    donations = await read(uow_factory, lambda uow: uow.people.donations_of(user))

    assert sorted(i.purpose for i in intents) == [Purpose.DONATION, Purpose.SUBSCRIPTION]
    assert [(g.user_id, g.invite_link) for g in grants] == [(user, "https://t.me/+personal")]
    assert [(d.user_id, str(d.amount.amount)) for d in donations] == [(user, "12.50")]


async def test_pseudonymizing_keeps_the_books_under_the_pseudonym_and_drops_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user, other = fresh_user(), fresh_user()
    pseudonym = UserId(-42)
    await _journey(uow_factory, user, active=False)
    await _journey(uow_factory, other, active=False)

    changed = await commit_with(uow_factory, lambda uow: uow.people.pseudonymize(user, pseudonym))

    # two intents, a subscription, a grant, a donation, the deleted seller request, the
    # Stars subscription
    assert changed == 7
    assert await read(uow_factory, lambda uow: uow.people.intents_of(user)) == []
    assert await read(uow_factory, lambda uow: uow.people.grants_of(user)) == []
    assert await read(uow_factory, lambda uow: uow.people.donations_of(user)) == []
    assert await read(uow_factory, lambda uow: uow.subscriptions.for_user(user)) == []
    assert await read(uow_factory, lambda uow: uow.sellers.get(user)) is None
    assert await read(uow_factory, lambda uow: uow.stars_renewals.of_user(user)) == []
    assert len(await read(uow_factory, lambda uow: uow.stars_renewals.of_user(pseudonym))) == 1
    kept = await read(uow_factory, lambda uow: uow.people.intents_of(pseudonym))
    assert sorted(str(i.price.amount) for i in kept) == ["10.50", "10.50"]
    grants = await read(uow_factory, lambda uow: uow.people.grants_of(pseudonym))
    assert [g.invite_link for g in grants] == [None]
    donations = await read(uow_factory, lambda uow: uow.people.donations_of(pseudonym))
    assert [(str(d.amount.amount), d.received_at) for d in donations] == [("12.50", T0)]
    subs = await read(uow_factory, lambda uow: uow.subscriptions.for_user(pseudonym))
    assert [(s.tier, s.starts_at) for s in subs] == [(2, T0)]
    # Nobody else's rows move.
    assert len(await read(uow_factory, lambda uow: uow.people.intents_of(other))) == 2
    assert await read(uow_factory, lambda uow: uow.sellers.get(other)) is not None
    assert len(await read(uow_factory, lambda uow: uow.stars_renewals.of_user(other))) == 1


async def test_a_rolled_back_pseudonymization_changes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = fresh_user()
    await _journey(uow_factory, user, active=False)

    async with uow_factory() as uow:
        await uow.people.pseudonymize(user, UserId(-42))
        await uow.rollback()

    assert len(await read(uow_factory, lambda uow: uow.people.intents_of(user))) == 2
    assert await read(uow_factory, lambda uow: uow.sellers.get(user)) is not None


async def test_an_operators_decisions_keep_the_pseudonym_as_decider(
    uow_factory: UnitOfWorkFactory,
) -> None:
    operator, asker = fresh_user(), fresh_user()
    request = SellerRequest(asker, "Grace", T0)
    await commit_with(uow_factory, lambda uow: uow.sellers.add(request))
    request.decide(operator, True, at(minutes=1))
    await commit_with(uow_factory, lambda uow: uow.sellers.decide(request))

    await commit_with(uow_factory, lambda uow: uow.people.pseudonymize(operator, UserId(-7)))

    stored = await read(uow_factory, lambda uow: uow.sellers.get(asker))
    assert stored is not None and (stored.name, stored.decided_by) == ("Grace", UserId(-7))


class _People:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self.clock = FrozenClock(T0)
        self.conversations = InMemoryConversationStore(self.clock)
        self.languages = InMemoryLanguageBook()
        self.names = InMemoryPersonNames()
        self.api_tokens = InMemoryApiTokenStore()
        self.export = ExportPerson(
            uow_factory, self.conversations, self.languages, self.clock, self.names, self.api_tokens
        )
        self.erase = ErasePerson(
            uow_factory,
            self.conversations,
            self.languages,
            self.clock,
            KEYRING,
            self.names,
            self.api_tokens,
        )


async def test_export_and_erase_refuse_an_active_subscriber_unless_forced(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = fresh_user()
    await _journey(uow_factory, user, active=True)
    people = _People(uow_factory)

    with pytest.raises(PersonDataRefused, match=r"holds_subscriptions\(n=1\)"):
        await people.export(user)
    with pytest.raises(PersonDataRefused, match=r"holds_subscriptions\(n=1\)"):
        await people.erase(user)

    data = await people.export(user, force=True)
    assert len(data.subscriptions) == 1 and len(data.intents) == 2
    erased = await people.erase(user, force=True)
    assert erased.pseudonym == pseudonym_of(user, KEYRING)


async def test_erasing_leaves_nothing_personal_and_is_audited_under_the_pseudonym(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = fresh_user()
    await _journey(uow_factory, user, active=False)
    people = _People(uow_factory)
    await people.conversations.put(user, Conversation("donate.amount"), timedelta(minutes=5))
    await people.languages.choose(ChatId(user), "es")
    await people.names.note(user, "ada_l")
    token = ApiToken("tok1", user, "ci", ApiScope.READ, "pgt_0123abcd", T0)
    await people.api_tokens.add(token, "d" * 64)
    before = await people.export(user)
    assert before.conversation is not None and before.language is not None
    assert before.username == "ada_l"
    assert before.api_tokens == [token]
    assert before.seller_request is not None and len(before.payment_events) == 1
    assert [e.action for e in before.audit] == ["intent.created"]
    assert [r.user_id for r in before.stars_subscriptions] == [user]

    erased = await people.erase(user)

    after = await people.export(user)
    assert (after.subscriptions, after.intents, after.payment_events) == ([], [], [])
    assert (after.grants, after.donations, after.channels) == ([], [], [])
    assert (after.seller_request, after.conversation, after.language) == (None, None, None)
    assert after.username is None and await people.names.name_of(user) is None
    assert after.api_tokens == [] and await people.api_tokens.by_digest("d" * 64) is None
    assert after.stars_subscriptions == []
    kept = await read(uow_factory, lambda uow: uow.stars_renewals.of_user(erased.pseudonym))
    assert [r.channel_id for r in kept] == [r.channel_id for r in before.stars_subscriptions]
    # The hash-linked trail keeps what it recorded; the erasure is added under the pseudonym.
    assert [e.action for e in after.audit] == ["intent.created"]
    trail = await read(uow_factory, lambda uow: uow.audit.all())
    assert (trail[-1].action, trail[-1].subject) == ("user.erased", f"user:{erased.pseudonym}")
    assert str(user) not in repr(trail[-1])
    assert erased.pseudonym < 0 and erased.pseudonym == pseudonym_of(user, KEYRING)


async def test_erasing_an_owner_needs_force_and_leaves_the_channel_ownerless_and_paused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    owner = fresh_user()
    channel = await given_channel(uow_factory, owner_id=owner)
    people = _People(uow_factory)

    with pytest.raises(PersonDataRefused, match=r"owns_channels\(n=1\)"):
        await people.erase(owner)
    assert [c.id for c in (await people.export(owner)).channels] == [channel.id]

    erased = await people.erase(owner, force=True)

    stored = await read(uow_factory, lambda uow: uow.channels.get(channel.id))
    assert (stored.owner_id, stored.payout_wallet) == (erased.pseudonym, None)
    assert (stored.sales_paused, stored.pause_reason) == (True, ERASED_PAUSE_REASON)
    assert (await people.export(owner)).channels == []
