"""The circuit breaker: transitions on a fake clock, bounded half-open trials,
timeouts, and exceptions that are not the dependency's fault."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from adapters.outbound.breaker import (
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    mark_client_error,
    not_client_error,
)
from core.ports.errors import Unavailable

OPEN = BreakerState.OPEN
CLOSED = BreakerState.CLOSED
HALF_OPEN = BreakerState.HALF_OPEN


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Boom(Exception):
    pass


class Transitions:
    def __init__(self) -> None:
        self.seen: list[tuple[str, BreakerState, BreakerState]] = []

    def __call__(self, name: str, old: BreakerState, new: BreakerState) -> None:
        self.seen.append((name, old, new))


async def ok() -> str:
    return "ok"


async def boom() -> str:
    raise Boom("dependency failed")


def make(
    clock: FakeClock,
    *,
    failure_threshold: int = 3,
    half_open_max_calls: int = 1,
    call_timeout: float = 10.0,
    is_failure: Callable[[BaseException], bool] = not_client_error,
    on_state_change: Callable[[str, BreakerState, BreakerState], None] | None = None,
) -> CircuitBreaker:
    return CircuitBreaker(
        "dep",
        failure_threshold=failure_threshold,
        reset_timeout=30.0,
        half_open_max_calls=half_open_max_calls,
        call_timeout=call_timeout,
        clock=clock,
        is_failure=is_failure,
        on_state_change=on_state_change,
    )


async def fail_times(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Boom):
            await breaker.call(boom)


async def test_a_new_breaker_is_closed_and_returns_what_the_call_returns() -> None:
    breaker = make(FakeClock())
    assert breaker.state is CLOSED
    assert breaker.name == "dep"
    assert await breaker.call(ok) == "ok"


async def test_failures_below_the_threshold_leave_it_closed() -> None:
    breaker = make(FakeClock())
    await fail_times(breaker, 2)
    assert breaker.state is CLOSED


async def test_consecutive_failures_reaching_the_threshold_open_it() -> None:
    breaker = make(FakeClock())
    await fail_times(breaker, 3)
    assert breaker.state is OPEN


async def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = make(FakeClock())
    await fail_times(breaker, 2)
    await breaker.call(ok)
    await fail_times(breaker, 2)
    assert breaker.state is CLOSED


async def test_an_open_breaker_refuses_without_calling_and_says_when_to_retry() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(10)
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    with pytest.raises(CircuitOpen) as caught:
        await breaker.call(counted)
    assert calls == 0
    assert caught.value.retry_after == pytest.approx(20.0)
    assert isinstance(caught.value, Unavailable)


async def test_it_turns_half_open_when_the_reset_timeout_has_passed() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(29.9)
    assert breaker.state is OPEN
    clock.advance(0.1)
    assert breaker.state is HALF_OPEN


async def test_a_successful_trial_closes_it() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(30)
    assert await breaker.call(ok) == "ok"
    assert breaker.state is CLOSED
    # Closed again means a fresh count: two failures do not reopen it.
    await fail_times(breaker, 2)
    assert breaker.state is CLOSED


async def test_a_failed_trial_reopens_it_for_a_full_reset_timeout() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(45)
    await fail_times(breaker, 1)
    assert breaker.state is OPEN
    with pytest.raises(CircuitOpen) as caught:
        await breaker.call(ok)
    assert caught.value.retry_after == pytest.approx(30.0)


@pytest.mark.parametrize("max_trials", [1, 3])
async def test_half_open_lets_exactly_the_allowed_trials_through_fifty_callers(
    max_trials: int,
) -> None:
    clock = FakeClock()
    breaker = make(clock, half_open_max_calls=max_trials)
    await fail_times(breaker, 3)
    clock.advance(30)
    release = asyncio.Event()
    entered = 0

    async def slow_trial() -> str:
        nonlocal entered
        entered += 1
        await release.wait()
        return "ok"

    tasks = [asyncio.create_task(breaker.call(slow_trial)) for _ in range(50)]
    await asyncio.sleep(0)
    refused = [t for t in tasks if t.done()]
    assert entered == max_trials
    assert len(refused) == 50 - max_trials
    assert all(isinstance(t.exception(), CircuitOpen) for t in refused)
    release.set()
    results = await asyncio.gather(*[t for t in tasks if t not in refused])
    assert results == ["ok"] * max_trials
    assert breaker.state is CLOSED


async def test_callers_refused_during_a_trial_are_told_when_it_will_have_ended() -> None:
    clock = FakeClock()
    breaker = make(clock, call_timeout=5.0)
    await fail_times(breaker, 3)
    clock.advance(30)
    release = asyncio.Event()

    async def slow_trial() -> str:
        await release.wait()
        return "ok"

    trial = asyncio.create_task(breaker.call(slow_trial))
    await asyncio.sleep(0)
    clock.advance(2)
    with pytest.raises(CircuitOpen) as caught:
        await breaker.call(ok)
    assert caught.value.retry_after == pytest.approx(3.0)
    release.set()
    assert await trial == "ok"


async def test_a_cancelled_trial_gives_its_slot_back() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(30)
    never = asyncio.Event()

    async def hangs() -> str:
        await never.wait()
        return "unreachable"

    trial = asyncio.create_task(breaker.call(hangs))
    await asyncio.sleep(0)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert breaker.state is HALF_OPEN
    assert await breaker.call(ok) == "ok"
    assert breaker.state is CLOSED


async def test_a_call_that_times_out_raises_unavailable_and_counts_as_a_failure() -> None:
    breaker = make(FakeClock(), failure_threshold=1, call_timeout=0.01)

    async def hangs() -> str:
        await asyncio.sleep(5)
        return "too late"

    with pytest.raises(Unavailable) as caught:
        await breaker.call(hangs)
    assert not isinstance(caught.value, CircuitOpen)
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert "dep did not answer within 0.01 s" in str(caught.value)
    assert breaker.state is OPEN


async def test_an_exception_the_predicate_excuses_passes_through_and_counts_as_success() -> None:
    breaker = make(FakeClock(), is_failure=lambda exc: not isinstance(exc, KeyError))
    await fail_times(breaker, 2)

    async def client_mistake() -> str:
        raise KeyError("no such thing")

    with pytest.raises(KeyError):
        await breaker.call(client_mistake)
    # The excused error reset the run of failures: two more do not reach three.
    await fail_times(breaker, 2)
    assert breaker.state is CLOSED


async def test_an_excused_exception_during_the_trial_closes_the_circuit() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await fail_times(breaker, 3)
    clock.advance(30)

    async def rejected() -> str:
        raise mark_client_error(ValueError("bad request"))

    with pytest.raises(ValueError, match="bad request"):
        await breaker.call(rejected)
    assert breaker.state is CLOSED


async def test_marked_client_errors_never_open_it_with_the_default_predicate() -> None:
    breaker = make(FakeClock())

    async def rate_limited() -> str:
        raise mark_client_error(Unavailable("slow down", retry_after=7))

    for _ in range(10):
        with pytest.raises(Unavailable) as caught:
            await breaker.call(rate_limited)
        assert caught.value.retry_after == 7
    assert breaker.state is CLOSED


def test_the_default_predicate_counts_everything_but_client_errors() -> None:
    class Refused(Exception):
        paygate_client_error = True

    assert not_client_error(Boom()) is True
    assert not_client_error(Unavailable("down")) is True
    assert not_client_error(mark_client_error(Boom())) is False
    assert not_client_error(Refused()) is False


async def test_a_slow_success_from_before_the_circuit_opened_does_not_close_it() -> None:
    breaker = make(FakeClock())
    release = asyncio.Event()

    async def slow_ok() -> str:
        await release.wait()
        return "ok"

    slow = asyncio.create_task(breaker.call(slow_ok))
    await asyncio.sleep(0)
    await fail_times(breaker, 3)
    release.set()
    assert await slow == "ok"
    assert breaker.state is OPEN


async def test_state_changes_are_reported_with_name_old_and_new_state() -> None:
    clock = FakeClock()
    seen = Transitions()
    breaker = make(clock, on_state_change=seen)
    await fail_times(breaker, 3)
    clock.advance(30)
    await fail_times(breaker, 1)
    clock.advance(30)
    await breaker.call(ok)
    assert seen.seen == [
        ("dep", CLOSED, OPEN),
        ("dep", OPEN, HALF_OPEN),
        ("dep", HALF_OPEN, OPEN),
        ("dep", OPEN, HALF_OPEN),
        ("dep", HALF_OPEN, CLOSED),
    ]


async def test_a_failing_state_change_hook_does_not_break_the_call() -> None:
    def broken_hook(name: str, old: BreakerState, new: BreakerState) -> None:
        raise RuntimeError("metrics backend down")

    breaker = make(FakeClock(), failure_threshold=1, on_state_change=broken_hook)
    await fail_times(breaker, 1)
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    ("option", "build"),
    [
        ("failure_threshold", lambda: CircuitBreaker("dep", failure_threshold=0)),
        ("half_open_max_calls", lambda: CircuitBreaker("dep", half_open_max_calls=0)),
        ("reset_timeout", lambda: CircuitBreaker("dep", reset_timeout=-1.0)),
        ("call_timeout", lambda: CircuitBreaker("dep", call_timeout=0.0)),
    ],
)
def test_nonsensical_settings_are_refused(option: str, build: Callable[[], CircuitBreaker]) -> None:
    with pytest.raises(ValueError, match=option):
        build()
