"""Hypothesis at volume: each target's inputs are drawn in rounds until a count or a
time budget is spent, and every input is judged. What counts as a finding:

* a **crash**: an exception the code under test does not document (a parser that
  raises ``IndexError`` instead of its refusal);
* a **forgery**: something not signed with our key accepted as signed;
* a **mismatch**: our canonical form of a body differs from what Node signs, where we
  accepted the body.

A finding stops the target's run, shrunk by Hypothesis to a small example, and is
reported with the figures; the CI subset fails on any.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = ["Figures", "Finding", "Target", "hammer", "print_figures"]

ROUND = 400
"""Examples per Hypothesis run; a run is also where a finding is shrunk."""


class Finding(AssertionError):
    """``kind`` is crash, forgery or mismatch."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def crash(value: object, error: BaseException) -> Finding:
    return Finding("crash", f"{type(error).__name__}: {error} on {value!r:.300}")


@attrs.frozen
class Target:
    name: str
    inputs: st.SearchStrategy[Any]
    judge: Callable[[Any], list[str]]
    """The verdicts (accepted, refused, ...) on one drawn example, which may hold a
    batch of inputs (sent to Node at once); raises :class:`Finding`."""


@attrs.frozen
class Figures:
    target: str
    tried: int
    verdicts: dict[str, int]
    seconds: float
    finding: Finding | None

    @property
    def crashes(self) -> int:
        return int(self.finding is not None and self.finding.kind == "crash")

    @property
    def forgeries(self) -> int:
        return int(self.finding is not None and self.finding.kind == "forgery")

    @property
    def mismatches(self) -> int:
        return int(self.finding is not None and self.finding.kind == "mismatch")


def hammer(target: Target, *, examples: int, seconds: float) -> Figures:
    """Judge ``target``'s inputs until ``examples`` drawn or ``seconds`` spent."""
    verdicts: Counter[str] = Counter()
    drawn = 0
    started = time.monotonic()
    finding: Finding | None = None

    def judged(value: Any) -> None:
        nonlocal drawn
        if time.monotonic() - started >= seconds:
            return  # spent: the rest of this round is drawn but not judged
        drawn += 1
        verdicts.update(target.judge(value))

    while drawn < examples and time.monotonic() - started < seconds:
        run = settings(
            max_examples=min(ROUND, examples - drawn),
            deadline=None,
            database=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        )(given(target.inputs)(judged))
        try:
            run()
        except Finding as found:
            finding = found
            break
    return Figures(
        target.name,
        sum(verdicts.values()),
        dict(verdicts),
        round(time.monotonic() - started, 1),
        finding,
    )


def print_figures(title: str, rows: list[Figures]) -> str:
    """The table the battery prints: per target, inputs tried and findings."""
    lines = [
        f"== {title}",
        f"   {'target':<28} {'inputs':>9} {'crashes':>8} {'forgeries':>10} "
        f"{'mismatches':>11} {'seconds':>8}  verdicts",
    ]
    for row in rows:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(row.verdicts.items()))
        lines.append(
            f"   {row.target:<28} {row.tried:>9} {row.crashes:>8} {row.forgeries:>10} "
            f"{row.mismatches:>11} {row.seconds:>8}  {verdicts}"
        )
        if row.finding is not None:
            lines.append(f"      FINDING {row.finding}")
    text = "\n".join(lines) + "\n"
    print(text, end="")  # noqa: T201 - the figures are this battery's output
    return text
