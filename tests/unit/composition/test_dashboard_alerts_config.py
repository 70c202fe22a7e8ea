"""PAYGATE_ALERT_HISTORY_DAYS (how long the dashboard keeps alerts) and the link late
money's alert carries to its payment page (PAYGATE_PUBLIC_URL, dashboard on)."""

from __future__ import annotations

import pytest

from composition.config import ConfigError
from composition.containers import _payment_pages
from tests.unit.composition.test_dashboard_config import load


def test_alerts_are_kept_thirty_days_unless_configured() -> None:
    assert load().alert_history_days == 30
    assert load(PAYGATE_ALERT_HISTORY_DAYS="7").alert_history_days == 7
    assert load().masked()["alert_history_days"] == "30"


@pytest.mark.parametrize("bad", ["0", "366", "a week", "-1"])
def test_an_alert_history_out_of_range_names_the_variable(bad: str) -> None:
    with pytest.raises(ConfigError, match="PAYGATE_ALERT_HISTORY_DAYS must be whole days"):
        load(PAYGATE_ALERT_HISTORY_DAYS=bad)


def test_late_money_links_to_the_dashboard_only_when_it_is_on_and_reachable() -> None:
    on = load(PAYGATE_PUBLIC_URL="https://pay.example.com/")
    assert _payment_pages(on) == "https://pay.example.com/dashboard/payments/"
    off = load(PAYGATE_PUBLIC_URL="https://pay.example.com", PAYGATE_DASHBOARD="off")
    assert _payment_pages(off) is None
    assert _payment_pages(load()) is None
