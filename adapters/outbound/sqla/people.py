"""A person's rows: found by user id, and pseudonymized with one UPDATE per table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from adapters.outbound.sqla.donations import donation_from_row
from adapters.outbound.sqla.grants import grant_from_row
from adapters.outbound.sqla.intents import intent_from_row
from adapters.outbound.sqla.tables import (
    access_grants,
    donations,
    payment_intents,
    seller_requests,
    stars_renewals,
    subscriptions,
)
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.donation import Donation
from core.domain.grant import AccessGrant
from core.domain.ids import UserId
from core.domain.payment import PaymentIntent


class SqlPersonRepository:
    """Implements PersonRepository."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def intents_of(self, user_id: UserId) -> Sequence[PaymentIntent]:
        t = payment_intents
        query = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at, t.c.id)
        rows = await self._tx.execute(query, "read a person's intents", reads_only=True)
        return [intent_from_row(r) for r in rows]

    async def grants_of(self, user_id: UserId) -> Sequence[AccessGrant]:
        t = access_grants
        query = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at, t.c.id)
        rows = await self._tx.execute(query, "read a person's grants", reads_only=True)
        return [grant_from_row(r) for r in rows]

    async def donations_of(self, user_id: UserId) -> Sequence[Donation]:
        t = donations
        query = select(t).where(t.c.user_id == user_id).order_by(t.c.received_at, t.c.id)
        rows = await self._tx.execute(query, "read a person's donations", reads_only=True)
        return [donation_from_row(r) for r in rows]

    async def pseudonymize(self, user_id: UserId, pseudonym: UserId) -> int:
        statements = [
            update(payment_intents)
            .where(payment_intents.c.user_id == user_id)
            .values(user_id=pseudonym),
            update(subscriptions)
            .where(subscriptions.c.user_id == user_id)
            .values(user_id=pseudonym),
            update(access_grants)
            .where(access_grants.c.user_id == user_id)
            .values(user_id=pseudonym, invite_link=None),
            update(donations).where(donations.c.user_id == user_id).values(user_id=pseudonym),
            update(seller_requests)
            .where(seller_requests.c.decided_by == user_id)
            .values(decided_by=pseudonym),
            delete(seller_requests).where(seller_requests.c.user_id == user_id),
            update(stars_renewals)
            .where(stars_renewals.c.user_id == user_id)
            .values(user_id=pseudonym),
        ]
        changed = 0
        for statement in statements:
            result = await self._tx.execute(statement, "pseudonymize a person")
            changed += result.rowcount
        return changed
