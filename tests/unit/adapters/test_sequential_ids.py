"""Sequential ids keep the IdGenerator contract: unique, 1-32 ASCII letters and digits."""

from __future__ import annotations

import pytest

from adapters.outbound.memory import SequentialIdGenerator
from core.domain.ids import is_valid_id


def test_ids_are_unique_valid_and_in_creation_order() -> None:
    ids = SequentialIdGenerator()

    made = [ids.new_id() for _ in range(1000)]

    assert made[:2] == ["id00000001", "id00000002"]
    assert len(set(made)) == 1000
    assert all(is_valid_id(i) for i in made)
    assert made == sorted(made)


def test_a_prefix_tells_generators_apart() -> None:
    assert SequentialIdGenerator("sub").new_id() == "sub00000001"
    assert SequentialIdGenerator("", start=42).new_id() == "00000042"


@pytest.mark.parametrize("prefix", ["has_underscore", "é", "x" * 25])
def test_a_prefix_that_would_break_the_contract_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        SequentialIdGenerator(prefix)
