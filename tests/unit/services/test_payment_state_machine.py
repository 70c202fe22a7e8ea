"""Random sequences of provider notifications against a simple model.

Several intents receive notifications in any order, with duplicates, replays,
underpayments, overpayments, second payments and late reports after expiry. The
model: a subscription is granted iff the intent first reached the paying status with
enough money, exactly once, and no intent status ever moves back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.domain.ids import ChannelId, UserId
from core.domain.intent_state import RANK, IntentStatus, can_move, reaches_paying
from core.domain.outbox import IssueInvite
from core.domain.payment import ProviderNotification
from core.services.invoicing import IssuedInvoice
from tests.unit.services.world import World, build

T = TypeVar("T")
USERS = [UserId(500 + n) for n in range(3)]
ASKED = Decimal("0.01")
TOLERANCE = Decimal("0.005")
# Fractions of the asked amount that arrive: short, within tolerance, exact, over.
FRACTIONS = [Decimal("0.5"), Decimal("0.99"), Decimal("0.996"), Decimal(1), Decimal("1.3")]
STATUSES = [s for s in IntentStatus if s is not IntentStatus.CREATED]


class PaymentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world: World = build()
        self.invoices: dict[UserId, IssuedInvoice] = {}
        self.channel_id = ChannelId("x")
        self.status: dict[UserId, IntentStatus] = {}
        self.granted: dict[UserId, bool] = {}
        self.seen: set[tuple[str, IntentStatus]] = set()
        self.sent: list[ProviderNotification] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()

    @initialize()
    def open_checkouts(self) -> None:
        channel = self.run(self.world.channel())
        self.channel_id = channel.id
        for user in USERS:
            self.invoices[user] = self.run(self.world.checkout.execute(user, channel.id, 1))
            self.status[user] = IntentStatus.CREATED
            self.granted[user] = False

    def _deliver(self, n: ProviderNotification, user: UserId) -> None:
        self.run(self.world.verify.execute(n))
        self.sent.append(n)
        key = (n.payment_id, n.status)
        if key in self.seen:
            return
        self.seen.add(key)
        current = self.status[user]
        if not can_move(current, n.status):
            return
        self.status[user] = n.status
        if reaches_paying(n.status, IntentStatus.FINISHED) and not self.granted[user]:
            fraction = (n.actually_paid.amount if n.actually_paid else 0) / ASKED
            if fraction >= 1 - TOLERANCE:
                self.granted[user] = True

    @rule(
        user=st.sampled_from(USERS),
        status=st.sampled_from(STATUSES),
        fraction=st.sampled_from(FRACTIONS),
        payment=st.sampled_from(["a", "b"]),
    )
    def notify(self, user: UserId, status: IntentStatus, fraction: Decimal, payment: str) -> None:
        n = self.world.notification(
            self.invoices[user],
            status,
            asked=ASKED,
            paid=ASKED * fraction,
            payment_id=f"{payment}{user}",
        )
        self._deliver(n, user)

    @precondition(lambda self: bool(self.sent))
    @rule(pick=st.integers(min_value=0))
    def replay(self, pick: int) -> None:
        n = self.sent[pick % len(self.sent)]
        user = next(u for u, inv in self.invoices.items() if n.order_id.startswith(inv.intent_id))
        self._deliver(n, user)

    @invariant()
    def store_matches_the_model(self) -> None:
        async def check() -> None:
            async with self.world.uow() as tx:
                for user, invoice in self.invoices.items():
                    intent = await tx.intents.get(invoice.intent_id)
                    assert intent.status is self.status[user]
                    assert intent.is_fulfilled is self.granted[user]
                    sub = await tx.subscriptions.find(user, self.channel_id)
                    assert (sub is not None) is self.granted[user]
            grants = [e for e in await self.world.effects() if isinstance(e, IssueInvite)]
            assert len(grants) == sum(self.granted.values())

        self.run(check())

    @invariant()
    def statuses_only_move_forward(self) -> None:
        async def ranks() -> list[int]:
            async with self.world.uow() as tx:
                return [
                    RANK[(await tx.intents.get(i.intent_id)).status] for i in self.invoices.values()
                ]

        now = self.run(ranks())
        previous = getattr(self, "_ranks", [0] * len(now))
        assert all(b >= a for a, b in zip(previous, now, strict=True))
        self._ranks = now


PaymentMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPaymentStateMachine = PaymentMachine.TestCase
