from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import InvalidTransition
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = timedelta(days=30)


def sub() -> Subscription:
    return Subscription.start(SubscriptionId("s1"), UserId(1), ChannelId("c1"), 1, MONTH, NOW)


def test_a_new_subscription_runs_for_its_period_from_now() -> None:
    s = sub()
    assert (s.starts_at, s.expires_at, s.period) == (NOW, NOW + MONTH, 1)


def test_extending_an_active_subscription_adds_to_its_end_not_to_now() -> None:
    s = sub()
    activated = s.extend(MONTH, 2, NOW + timedelta(days=10))
    assert not activated
    assert s.expires_at == NOW + 2 * MONTH
    assert (s.tier, s.period) == (2, 1)


def test_extending_a_lapsed_subscription_starts_from_now_and_opens_a_new_period() -> None:
    s = sub()
    later = NOW + timedelta(days=40)
    s.expire(later)
    activated = s.extend(MONTH, 1, later)
    assert activated
    assert (s.status, s.starts_at, s.expires_at, s.period) == (
        SubscriptionStatus.ACTIVE,
        later,
        later + MONTH,
        2,
    )


def test_extension_clears_reminder_marks_for_the_new_term() -> None:
    s = sub()
    s.mark_reminded(72)
    s.extend(MONTH, 1, NOW)
    assert s.reminders_sent == frozenset()


def test_a_subscription_cannot_expire_before_its_end() -> None:
    with pytest.raises(InvalidTransition, match="target=expired"):
        sub().expire(NOW + timedelta(days=29))


def test_expired_subscription_cannot_expire_again() -> None:
    s = sub()
    s.expire(NOW + MONTH)
    with pytest.raises(InvalidTransition):
        s.expire(NOW + MONTH)


def test_revoke_ends_access_at_once() -> None:
    s = sub()
    s.revoke()
    assert not s.is_active_at(NOW)


def test_reminder_is_due_within_its_lead_and_only_once() -> None:
    s = sub()
    assert not s.reminder_due(72, NOW + MONTH - timedelta(hours=73))
    assert s.reminder_due(72, NOW + MONTH - timedelta(hours=71))
    s.mark_reminded(72)
    assert not s.reminder_due(72, NOW + MONTH - timedelta(hours=70))


def test_negative_extension_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        sub().extend(timedelta(0), 1, NOW)
