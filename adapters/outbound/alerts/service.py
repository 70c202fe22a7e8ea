"""The AlertService: one AlertSink in front of every configured alert channel."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta

import attrs

from adapters.outbound.alerts.channel import AlertChannel, describe_failure
from adapters.outbound.alerts.rendering import SEVERITY_RANK
from adapters.outbound.alerts.repeats import DEFAULT_MAX_KEYS, RepeatSuppressor
from adapters.outbound.breaker import BreakerState, CircuitBreaker, CircuitOpen
from core.ports.alerts import Alert, Severity
from core.ports.clock import Clock

__all__ = ["AlertRoute", "AlertService", "BreakerSettings"]

logger = logging.getLogger("paygate.alerts")

DEFAULT_REPEAT_WINDOW = timedelta(minutes=10)


@attrs.frozen
class AlertRoute:
    """A channel and the least severe alert it receives."""

    channel: AlertChannel
    min_severity: Severity = Severity.INFO


@attrs.frozen
class BreakerSettings:
    """The circuit breaker around each channel. ``call_timeout`` bounds how long one
    channel can hold up ``send``; keep it above the channel's own timeout (SMTP,
    webhook) so the channel reports its failure before the breaker gives up on it."""

    failure_threshold: int = 3
    reset_timeout: timedelta = timedelta(minutes=5)
    call_timeout: timedelta = timedelta(seconds=20)


@attrs.frozen
class _Route:
    channel: AlertChannel
    min_severity: Severity
    breaker: CircuitBreaker

    def wants(self, alert: Alert) -> bool:
        return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]


class AlertService:
    """Implements AlertSink. Sends each alert to every channel whose minimum severity it
    meets, all at once, each through its own circuit breaker; the same key fires at most
    once per ``repeat_window`` (see :class:`RepeatSuppressor`).

    Best effort, as the port says: a channel that fails or hangs costs at most the
    breaker's call timeout, never stops the other channels, and never raises to the
    caller; the failure is logged. After ``failure_threshold`` failures in a row a
    channel's breaker opens and the channel is skipped until ``reset_timeout`` has
    passed, when one trial alert goes through.

    A breaker opening, or closing again after a successful trial, is itself an alert:
    ``alerts.channel.<name>.open`` (warning) or ``.closed`` (info), sent to the OTHER
    channels only, so a broken channel is never asked to report its own breakage and
    the announcement cannot loop back into the breaker that caused it. These skip the
    repeat window: their rate is already bounded by the reset timeout, and a swallowed
    "works again" or "failing again" would leave operators believing the wrong state.
    Half-open is not announced (it is a trial, not news), nor is a failed trial
    re-opening the breaker (the channel was already announced as failing)."""

    def __init__(
        self,
        routes: Sequence[AlertRoute],
        clock: Clock,
        *,
        repeat_window: timedelta = DEFAULT_REPEAT_WINDOW,
        breaker: BreakerSettings = BreakerSettings(),
        max_tracked_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if not routes:
            raise ValueError("an alert service needs at least one channel")
        names = [route.channel.name for route in routes]
        if len(set(names)) != len(names):
            raise ValueError(f"alert channel names must be unique, got {names}")
        self._clock = clock
        self._repeats = RepeatSuppressor(repeat_window, max_keys=max_tracked_keys)
        self._reset_timeout = breaker.reset_timeout
        self._pending: deque[tuple[str, Alert]] = deque()
        self._routes = tuple(
            _Route(
                channel=route.channel,
                min_severity=route.min_severity,
                breaker=CircuitBreaker(
                    f"alerts.{route.channel.name}",
                    failure_threshold=breaker.failure_threshold,
                    reset_timeout=breaker.reset_timeout.total_seconds(),
                    call_timeout=breaker.call_timeout.total_seconds(),
                    # The injected clock, so a test (and the repeat window) share one time.
                    clock=lambda: clock.now().timestamp(),
                    on_state_change=self._state_change_hook(route.channel.name),
                ),
            )
            for route in routes
        )

    async def send(self, alert: Alert) -> None:
        try:
            admitted = self._repeats.admit(alert, self._clock.now())
            if admitted is not None:
                await self._fan_out(admitted, skip=None)
            await self._announce_breaker_changes()
        except Exception:
            # The port promises no exceptions; a bug here must not fail a payment.
            logger.exception("the alert service failed on alert %s", alert.key)

    async def _fan_out(self, alert: Alert, *, skip: str | None) -> None:
        targets = [r for r in self._routes if r.channel.name != skip and r.wants(alert)]
        if not targets:
            return
        delivered = await asyncio.gather(*(self._deliver(route, alert) for route in targets))
        if not any(delivered):
            logger.error(
                "alert %s [%s] %s reached none of its %d channels",
                alert.key,
                alert.severity.value,
                alert.title,
                len(targets),
            )

    async def _deliver(self, route: _Route, alert: Alert) -> bool:
        try:
            await route.breaker.call(lambda: route.channel.deliver(alert))
        except CircuitOpen:
            # Its opening was logged and announced; one line per skipped alert is enough.
            logger.info(
                "alert channel %s is paused; alert %s skipped it", route.channel.name, alert.key
            )
            return False
        except Exception as exc:
            logger.warning(
                "alert channel %s could not deliver alert %s: %s",
                route.channel.name,
                alert.key,
                describe_failure(exc),
            )
            return False
        return True

    async def _announce_breaker_changes(self) -> None:
        # A loop, not recursion: announcing one change may open another channel's
        # breaker, whose announcement is queued and sent here in turn.
        while self._pending:
            origin, alert = self._pending.popleft()
            await self._fan_out(alert, skip=origin)

    def _state_change_hook(self, channel: str) -> Callable[[str, BreakerState, BreakerState], None]:
        def hook(_breaker: str, old: BreakerState, new: BreakerState) -> None:
            # Called synchronously inside the breaker: only queue, send after the call.
            if old is BreakerState.CLOSED and new is BreakerState.OPEN:
                self._pending.append((channel, self._channel_failing(channel)))
            elif old is BreakerState.HALF_OPEN and new is BreakerState.CLOSED:
                self._pending.append((channel, self._channel_recovered(channel)))

        return hook

    def _channel_failing(self, channel: str) -> Alert:
        retry_in = _duration(self._reset_timeout)
        return Alert(
            Severity.WARNING,
            f"Alert channel {channel} is failing; it is paused and retried in {retry_in}",
            key=f"alerts.channel.{channel}.open",
            details={"channel": channel, "state": BreakerState.OPEN.value, "retry_in": retry_in},
        )

    def _channel_recovered(self, channel: str) -> Alert:
        return Alert(
            Severity.INFO,
            f"Alert channel {channel} delivers again",
            key=f"alerts.channel.{channel}.closed",
            details={"channel": channel, "state": BreakerState.CLOSED.value},
        )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 60:
        return f"{seconds} s"
    return f"{seconds // 60} min"
