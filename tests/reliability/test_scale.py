"""``PAYGATE_RELIABILITY_SCALE``: how long the battery's phases last."""

from __future__ import annotations

import pytest

from tests.reliability.load import SCALE_VARIABLE, Timing, scale


def test_the_ci_subset_is_the_default_and_full_length_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SCALE_VARIABLE, raising=False)
    assert scale() == 0.3
    assert Timing.scaled() == Timing(rate=10, before=1.5, outage=3.0, after=3.0)
    monkeypatch.setenv(SCALE_VARIABLE, "1")
    assert Timing.scaled() == Timing(rate=30, before=3.0, outage=10.0, after=6.0)
    assert Timing.scaled().payments == 570


@pytest.mark.parametrize("text", ["fast", "0", "-1", "11"])
def test_a_scale_that_is_no_number_or_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(SCALE_VARIABLE, text)
    with pytest.raises(ValueError, match=SCALE_VARIABLE):
        scale()
