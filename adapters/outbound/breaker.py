"""The circuit breaker every outbound dependency sits behind.

Ours rather than a library's because the libraries we measured (aiobreaker, purgatory)
let every concurrent caller through once the reset timeout has passed: 50 of 50 calls
hit a dependency that is probably still down. Here at most ``half_open_max_calls``
trial calls run while the breaker is half open; everyone else is refused at once with
:class:`CircuitOpen`, which is an :class:`~core.ports.errors.Unavailable`, so callers
that already handle "try later" need nothing new.

Every call also runs under a timeout: a dependency that never answers is a failure,
not a hung worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from adapters.outbound.outage import OutageNotice
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.errors import Unavailable

__all__ = [
    "CLIENT_ERROR_ATTRIBUTE",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpen",
    "OutageAlerts",
    "mark_client_error",
    "not_client_error",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

CLIENT_ERROR_ATTRIBUTE = "paygate_client_error"
"""An exception (or exception class) with this attribute set to True is the caller's
fault or a polite "slow down" (a 4xx, a 429): the dependency is healthy, so the
default predicate does not count it as a failure."""


def mark_client_error(exc: E) -> E:
    """Tag ``exc`` as a client error for :func:`not_client_error` and return it, so an
    adapter can write ``raise mark_client_error(ProviderRejected(...))``."""
    setattr(exc, CLIENT_ERROR_ATTRIBUTE, True)
    return exc


def not_client_error(exc: BaseException) -> bool:
    """The default failure predicate: everything counts except client errors."""
    return getattr(exc, CLIENT_ERROR_ATTRIBUTE, False) is not True


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Unavailable):
    """Refused without calling the dependency: the breaker is open, or half open with
    all its trial calls already under way. ``retry_after`` is the number of seconds
    until a trial call may be allowed."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"{name} is unavailable (circuit open)", retry_after=retry_after)
        self.breaker_name = name


class CircuitBreaker:
    """Consecutive failures open the circuit; after ``reset_timeout`` seconds up to
    ``half_open_max_calls`` concurrent trial calls are let through; a trial that
    succeeds closes the circuit and one that fails opens it again.

    An exception for which ``is_failure`` returns False is re-raised untouched and
    counts as a success: the dependency answered. A call still running when the
    breaker changes state does not vote in the new state, so a slow success from
    before the circuit opened cannot close it.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        call_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        is_failure: Callable[[BaseException], bool] = not_client_error,
        on_state_change: Callable[[str, BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be at least 1")
        if reset_timeout < 0:
            raise ValueError("reset_timeout must not be negative")
        if call_timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._name = name
        self._failure_threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._half_open_max_calls = half_open_max_calls
        self._call_timeout = call_timeout
        self._clock = clock
        self._is_failure = is_failure
        self._listeners: list[Callable[[str, BreakerState, BreakerState], None]] = []
        if on_state_change is not None:
            self._listeners.append(on_state_change)
        self._state = BreakerState.CLOSED
        self._consecutive_failures = 0
        self._opened_at = 0.0
        # Bumped on every transition; a call remembers the generation it was admitted
        # in and its outcome is ignored once the breaker has moved on.
        self._generation = 0
        # Deadlines of the trial calls under way while half open.
        self._trial_deadlines: list[float] = []

    @property
    def name(self) -> str:
        return self._name

    def listen(self, on_state_change: Callable[[str, BreakerState, BreakerState], None]) -> None:
        """Also call ``on_state_change(name, old, new)`` on every transition (an alert
        attached after the breaker was built, beside a metric given at construction)."""
        self._listeners.append(on_state_change)

    @property
    def state(self) -> BreakerState:
        """The current state; an open circuit whose reset timeout has passed reads
        (and becomes) half open."""
        self._refresh(self._clock())
        return self._state

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn()`` under the breaker and the call timeout.

        Raises :class:`CircuitOpen` without calling ``fn``, or
        :class:`~core.ports.errors.Unavailable` when the call timed out; any other
        exception from ``fn`` is re-raised as it is."""
        generation, trial_deadline = self._admit()
        decided = False
        try:
            async with asyncio.timeout(self._call_timeout):
                result = await fn()
        except TimeoutError as exc:
            decided = True
            self._record(generation, failed=True)
            raise Unavailable(
                f"{self._name} did not answer within {self._call_timeout:g} s"
            ) from exc
        except Exception as exc:
            decided = True
            self._record(generation, failed=self._is_failure(exc))
            raise
        finally:
            # Cancelled (or another BaseException): neither a success nor a failure,
            # but the trial slot must be given back or the breaker stays stuck.
            if not decided and trial_deadline is not None:
                self._release_trial(generation, trial_deadline)
        self._record(generation, failed=False)
        return result

    def _admit(self) -> tuple[int, float | None]:
        now = self._clock()
        self._refresh(now)
        if self._state is BreakerState.CLOSED:
            return self._generation, None
        if self._state is BreakerState.OPEN:
            raise CircuitOpen(self._name, self._opened_at + self._reset_timeout - now)
        if len(self._trial_deadlines) >= self._half_open_max_calls:
            raise CircuitOpen(self._name, max(0.0, min(self._trial_deadlines) - now))
        deadline = now + self._call_timeout
        self._trial_deadlines.append(deadline)
        return self._generation, deadline

    def _release_trial(self, generation: int, deadline: float) -> None:
        if generation == self._generation and deadline in self._trial_deadlines:
            self._trial_deadlines.remove(deadline)

    def _refresh(self, now: float) -> None:
        if self._state is BreakerState.OPEN and now - self._opened_at >= self._reset_timeout:
            self._move_to(BreakerState.HALF_OPEN, now)

    def _record(self, generation: int, *, failed: bool) -> None:
        if generation != self._generation:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._move_to(BreakerState.OPEN if failed else BreakerState.CLOSED, self._clock())
        elif self._state is BreakerState.CLOSED:
            if not failed:
                self._consecutive_failures = 0
                return
            self._consecutive_failures += 1
            if self._consecutive_failures >= self._failure_threshold:
                self._move_to(BreakerState.OPEN, self._clock())

    def _move_to(self, new: BreakerState, now: float) -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._trial_deadlines = []
        self._consecutive_failures = 0
        if new is BreakerState.OPEN:
            self._opened_at = now
            logger.warning("circuit %s opened (was %s)", self._name, old)
        else:
            logger.info("circuit %s is now %s (was %s)", self._name, new, old)
        for listener in self._listeners:
            try:
                listener(self._name, old, new)
            except Exception:
                # A broken metrics hook must not turn into failed payments.
                logger.exception("on_state_change hook of circuit %s failed", self._name)


# --- degraded, not down (issue 18): an alert when a dependency is lost and back ---


class OutageAlerts:
    """A breaker listener: one alert when the circuit opens (the dependency stopped
    answering) and one when it closes again (a trial call got through). Re-opening
    after a failed trial is the same outage and says nothing new.

    The alerts go out in the background: the call that moved the breaker (a payment,
    a grant) must not wait for an alert channel. ``what`` names the dependency for
    people ("NowPayments"); the keys are ``<breaker>:unreachable`` and
    ``<breaker>:reachable``, two keys so the alert service's repeat window never
    folds "back" into "lost"."""

    def __init__(self, alerts: AlertSink, what: str, consequence: str) -> None:
        self._what = what
        self._consequence = consequence
        self._outage = OutageNotice(f"{what} reachability", alerts)

    def __call__(self, name: str, old: BreakerState, new: BreakerState) -> None:
        if new is BreakerState.OPEN and not self._outage.down:
            logger.warning("%s is unreachable (circuit %s open)", self._what, name)
            self._outage.lost(
                Alert(
                    severity=Severity.CRITICAL,
                    title=f"{self._what} is unreachable: {self._consequence}",
                    key=f"{name}:unreachable",
                )
            )
        elif new is BreakerState.CLOSED and self._outage.down:
            logger.info("%s is reachable again (circuit %s closed)", self._what, name)
            self._outage.back(
                Alert(
                    severity=Severity.WARNING,
                    title=f"{self._what} is reachable again",
                    key=f"{name}:reachable",
                )
            )


# --- end degraded, not down
