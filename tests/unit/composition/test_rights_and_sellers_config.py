"""PAYGATE_RIGHTS_CHECK_EVERY_SECONDS and PAYGATE_SELLERS: read, validated, wired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from composition.config import ConfigError
from composition.containers import Infrastructure
from core.domain.ids import UserId
from tests.unit.composition.test_config import load


def test_the_rights_check_runs_every_minute_unless_told() -> None:
    assert load().rights_check_every == timedelta(minutes=1)
    assert load(PAYGATE_RIGHTS_CHECK_EVERY_SECONDS="300").rights_check_every == timedelta(minutes=5)


@pytest.mark.parametrize("value", ["0", "0.5", "86401", "nan", "often"])
def test_a_rights_check_interval_out_of_range_names_its_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="PAYGATE_RIGHTS_CHECK_EVERY_SECONDS"):
        load(PAYGATE_RIGHTS_CHECK_EVERY_SECONDS=value)


@pytest.mark.parametrize("value", ["alice", "1001,-5", "1001;1002"])
def test_a_malformed_seller_list_names_its_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="PAYGATE_SELLERS"):
        load(PAYGATE_SELLERS=value)


async def test_without_a_seller_list_everyone_may_sell() -> None:
    policy = Infrastructure(config=load()).sellers()
    assert await policy.may_sell(UserId(123456))


async def test_the_seller_list_admits_only_its_users() -> None:
    config = load(PAYGATE_SELLERS=" 1001, 1002 ,")
    policy = Infrastructure(config=config).sellers()
    assert config.sellers == (1001, 1002)
    assert await policy.may_sell(UserId(1002))
    assert not await policy.may_sell(UserId(1003))


def test_anyone_is_the_same_as_no_seller_list() -> None:
    config = load(PAYGATE_SELLERS="anyone")
    assert (config.sellers, config.sellers_by_approval) == ((), False)


def test_approval_keeps_the_listed_ids_beside_it() -> None:
    config = load(PAYGATE_SELLERS="approval, 1001", PAYGATE_OPERATOR_IDS="9001")
    assert (config.sellers, config.sellers_by_approval) == ((1001,), True)


def test_approval_without_operators_names_both_variables() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_SELLERS=approval needs PAYGATE_OPERATOR_IDS"):
        load(PAYGATE_SELLERS="approval")


@pytest.mark.parametrize("value", ["anyone,1001", "approve", "approval,bob"])
def test_a_malformed_seller_rule_names_its_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="PAYGATE_SELLERS must be anyone, comma-separated"):
        load(PAYGATE_SELLERS=value, PAYGATE_OPERATOR_IDS="9001")
