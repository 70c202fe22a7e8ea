from datetime import UTC, datetime

import pytest

from core.domain.errors import InvalidTransition
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import RANK, TRANSITIONS, IntentStatus, can_move, reaches_paying
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose

NOW = datetime(2026, 1, 1, tzinfo=UTC)
S = IntentStatus


def intent() -> PaymentIntent:
    return PaymentIntent(
        IntentId("i1"),
        Purpose.SUBSCRIPTION,
        UserId(1),
        ChannelId("c1"),
        Money.of(5, "USD"),
        "fakepay",
        NOW,
        NOW,
        tier=1,
        duration_days=30,
    )


def test_every_transition_in_the_table_moves_forward() -> None:
    for source, targets in TRANSITIONS.items():
        for target in targets:
            assert RANK[target] > RANK[source], (source, target)


def test_no_status_can_be_reached_again_once_left() -> None:
    for source, targets in TRANSITIONS.items():
        assert source not in targets
        for target in targets:
            assert not can_move(target, source)


@pytest.mark.parametrize("final", [S.FAILED, S.EXPIRED, S.REFUNDED])
def test_final_statuses_go_nowhere(final: IntentStatus) -> None:
    assert TRANSITIONS[final] == frozenset()


def test_finished_can_only_be_refunded() -> None:
    assert TRANSITIONS[S.FINISHED] == frozenset({S.REFUNDED})


def test_intent_moves_along_the_table() -> None:
    i = intent()
    for status in (S.WAITING, S.CONFIRMING, S.CONFIRMED, S.FINISHED):
        i.move_to(status, NOW)
    assert i.status is S.FINISHED


def test_intent_refuses_to_move_back() -> None:
    i = intent()
    i.move_to(S.CONFIRMING, NOW)
    with pytest.raises(InvalidTransition, match="source=confirming, target=waiting"):
        i.move_to(S.WAITING, NOW)


def test_fulfilment_happens_once() -> None:
    i = intent()
    i.mark_fulfilled(NOW)
    with pytest.raises(InvalidTransition):
        i.mark_fulfilled(NOW)


def test_paying_status_reached_by_later_paid_statuses() -> None:
    assert reaches_paying(S.FINISHED, S.CONFIRMED)
    assert reaches_paying(S.SENDING, S.CONFIRMED)
    assert not reaches_paying(S.CONFIRMED, S.FINISHED)
    assert not reaches_paying(S.PARTIALLY_PAID, S.CONFIRMED)
    assert not reaches_paying(S.REFUNDED, S.FINISHED)
