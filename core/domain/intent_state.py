"""The payment intent's state machine, as a table.

The statuses are the payment provider's (NowPayments), plus ``created`` for an intent
whose provider has not reported anything yet. Every allowed transition strictly
raises the status's rank, so the table is acyclic: a status never moves back, and a
late or out-of-order notification is recorded and changes nothing. The rank also
lets a database refuse a stale write with ``UPDATE ... WHERE status_rank < :new``.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class IntentStatus(StrEnum):
    CREATED = "created"
    WAITING = "waiting"
    CONFIRMING = "confirming"
    PARTIALLY_PAID = "partially_paid"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    FINISHED = "finished"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


S = IntentStatus

RANK: MappingProxyType[IntentStatus, int] = MappingProxyType(
    {
        S.CREATED: 0,
        S.WAITING: 10,
        S.CONFIRMING: 20,
        S.PARTIALLY_PAID: 25,
        S.CONFIRMED: 30,
        S.SENDING: 40,
        S.FINISHED: 50,
        S.FAILED: 60,
        S.EXPIRED: 60,
        S.REFUNDED: 70,
    }
)

TRANSITIONS: MappingProxyType[IntentStatus, frozenset[IntentStatus]] = MappingProxyType(
    {
        S.CREATED: frozenset(
            {
                S.WAITING,
                S.CONFIRMING,
                S.PARTIALLY_PAID,
                S.CONFIRMED,
                S.SENDING,
                S.FINISHED,
                S.FAILED,
                S.EXPIRED,
            }
        ),
        S.WAITING: frozenset(
            {
                S.CONFIRMING,
                S.PARTIALLY_PAID,
                S.CONFIRMED,
                S.SENDING,
                S.FINISHED,
                S.FAILED,
                S.EXPIRED,
            }
        ),
        S.CONFIRMING: frozenset(
            {S.PARTIALLY_PAID, S.CONFIRMED, S.SENDING, S.FINISHED, S.FAILED, S.EXPIRED}
        ),
        # The rest of an underpayment can still arrive and complete the payment.
        S.PARTIALLY_PAID: frozenset(
            {S.CONFIRMED, S.SENDING, S.FINISHED, S.FAILED, S.EXPIRED, S.REFUNDED}
        ),
        S.CONFIRMED: frozenset({S.SENDING, S.FINISHED, S.FAILED, S.REFUNDED}),
        S.SENDING: frozenset({S.FINISHED, S.FAILED, S.REFUNDED}),
        S.FINISHED: frozenset({S.REFUNDED}),
        S.FAILED: frozenset(),
        S.EXPIRED: frozenset(),
        S.REFUNDED: frozenset(),
    }
)

OPEN_STATUSES = frozenset({S.CREATED, S.WAITING})
"""Nothing has been paid yet: the intent (and its invoice) may be reused."""

PAID_STATUSES = frozenset({S.CONFIRMED, S.SENDING, S.FINISHED})
"""The provider holds the money (``confirmed`` onwards)."""

PAYING_CHOICES = frozenset({S.CONFIRMED, S.FINISHED})
"""The statuses an operator may choose to grant on (the provider advises ``finished``)."""


def can_move(current: IntentStatus, new: IntentStatus) -> bool:
    return new in TRANSITIONS[current]


def reaches_paying(status: IntentStatus, paying: IntentStatus) -> bool:
    """Is ``status`` the paying status or a paid status after it?"""
    return status in PAID_STATUSES and RANK[status] >= RANK[paying]


def _check_table() -> None:
    for source, targets in TRANSITIONS.items():
        for target in targets:
            if RANK[target] <= RANK[source]:  # pragma: no cover - guarded by unit tests
                raise AssertionError(f"{source} -> {target} does not move forward")


_check_table()
