from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from core.domain.audit import AuditEvent, AuditRecord, verify_chain
from core.domain.channel import DonationBounds
from core.domain.donation import validate_donation
from core.domain.errors import InvalidAmount
from core.domain.ids import ChannelId, ChatId, GrantId, SubscriptionId, UserId
from core.domain.messages import Verbatim, VerbatimButton
from core.domain.money import Money
from core.domain.outbox import (
    ApproveJoin,
    DeclineJoin,
    Effect,
    IssueBundleInvite,
    IssueInvite,
    LeaveBundle,
    RemoveMember,
    SendMessage,
    effect_from_payload,
    effect_to_payload,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def chain(n: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for i in range(n):
        prev = events[-1] if events else None
        events.append(AuditEvent.chain(prev, NOW, AuditRecord("u", f"a{i}", "s", {"k": str(i)})))
    return events


def test_an_unbroken_chain_verifies() -> None:
    assert verify_chain(chain(5))


def test_an_edited_event_breaks_the_chain() -> None:
    events = chain(5)
    events[2] = attrs.evolve(events[2], details={"k": "tampered"})
    assert not verify_chain(events)


def test_a_deleted_event_breaks_the_chain() -> None:
    events = chain(5)
    del events[2]
    assert not verify_chain(events)


@pytest.mark.parametrize(
    "effect",
    [
        SendMessage(
            ChatId(5),
            Verbatim(
                "hi ✓",
                (
                    (VerbatimButton("Pay", url="https://x"),),
                    (VerbatimButton("Renew", callback_data="o:t"),),
                ),
            ),
        ),
        IssueInvite(GrantId("g1")),
        ApproveJoin(ChatId(-100), UserId(5)),
        DeclineJoin(ChatId(-100), UserId(5)),
        RemoveMember(ChatId(-100), UserId(5)),
        IssueBundleInvite(SubscriptionId("s1"), 3, ChannelId("c2")),
        LeaveBundle(ChannelId("c1"), UserId(5), "leave:s1:3"),
    ],
)
def test_effects_round_trip_through_their_payload(effect: Effect) -> None:
    assert effect_from_payload(effect.kind, effect_to_payload(effect)) == effect


BOUNDS = DonationBounds(Money.of(1, "USD"), Money.of(500, "USD"))


def test_donations_within_bounds_with_two_decimals_are_accepted() -> None:
    assert validate_donation(Decimal("12.50"), BOUNDS) == Money.of("12.50", "USD")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.99", r"donation_below\(least=1 USD\)"),
        ("500.01", r"donation_above\(most=500 USD\)"),
        ("5.001", "donation_decimals"),
        ("NaN", "donation_format"),
    ],
)
def test_donations_outside_the_rules_are_refused(amount: str, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        validate_donation(Decimal(amount), BOUNDS)
