"""A person's rows in memory: found by user id, and pseudonymized in place."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from adapters.outbound.memory.table import TableView
from core.domain.donation import Donation
from core.domain.grant import AccessGrant
from core.domain.ids import DonationId, GrantId, IntentId, SubscriptionId, UserId
from core.domain.payment import PaymentIntent
from core.domain.seller import SellerRequest
from core.domain.stars_renewal import StarsRenewal
from core.domain.subscription import Subscription


@attrs.frozen
class PersonTables:
    intents: TableView[IntentId, PaymentIntent]
    subscriptions: TableView[SubscriptionId, Subscription]
    grants: TableView[GrantId, AccessGrant]
    donations: TableView[DonationId, Donation]
    seller_requests: TableView[UserId, SellerRequest]
    stars_renewals: TableView[str, StarsRenewal]


class InMemoryPersonRepository:
    """Implements PersonRepository."""

    def __init__(self, tables: PersonTables) -> None:
        self._t = tables

    async def intents_of(self, user_id: UserId) -> Sequence[PaymentIntent]:
        return self._t.intents.select(lambda i: i.user_id == user_id, order=lambda i: i.created_at)

    async def grants_of(self, user_id: UserId) -> Sequence[AccessGrant]:
        return self._t.grants.select(lambda g: g.user_id == user_id, order=lambda g: g.created_at)

    async def donations_of(self, user_id: UserId) -> Sequence[Donation]:
        return self._t.donations.select(
            lambda d: d.user_id == user_id, order=lambda d: d.received_at
        )

    async def pseudonymize(self, user_id: UserId, pseudonym: UserId) -> int:
        t = self._t
        changed = 0
        for intent in await self.intents_of(user_id):
            await t.intents.update(attrs.evolve(intent, user_id=pseudonym), "payment intent")
            changed += 1
        for sub in t.subscriptions.select(lambda s: s.user_id == user_id):
            await t.subscriptions.update(attrs.evolve(sub, user_id=pseudonym), "subscription")
            changed += 1
        for grant in await self.grants_of(user_id):
            blank = attrs.evolve(grant, user_id=pseudonym, invite_link=None)
            await t.grants.update(blank, "access grant")
            changed += 1
        for donation in await self.donations_of(user_id):
            await t.donations.update(attrs.evolve(donation, user_id=pseudonym), "donation")
            changed += 1
        for decided in t.seller_requests.select(lambda r: r.decided_by == user_id):
            await t.seller_requests.update(
                attrs.evolve(decided, decided_by=pseudonym), "seller request"
            )
            changed += 1
        if await t.seller_requests.delete(user_id):
            changed += 1
        for renewal in t.stars_renewals.select(lambda r: r.user_id == user_id):
            await t.stars_renewals.update(
                attrs.evolve(renewal, user_id=pseudonym), "Stars subscription"
            )
            changed += 1
        return changed
