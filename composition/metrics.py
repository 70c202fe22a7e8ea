"""A process's business metrics, on the registry its ``/metrics`` serves.

Facts are counted where they happen, through plain callbacks the adapters take (no
adapter and nothing in core imports this): the Telegram transport tells of every
call, the outbox dispatcher of every message tried, the worker's jobs of their runs.
What is a state rather than an event (the outbox backlog, a breaker's state) is read
when scraped, by :meth:`ProcessMetrics.refresh`.

Every label value comes from a closed set (a Bot API method name, an effect kind, an
outcome, a job name), never from a person's id, a chat, an order or a secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from adapters.outbound.breaker import BreakerState, CircuitBreaker
from adapters.outbound.sqla.outbox_backlog import OutboxBacklog
from core.services.reconcile import ReconcileReport

__all__ = ["ProcessMetrics"]

_BREAKER_LEVELS = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class ProcessMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        # The default process metrics, on this registry (not the library's global one).
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.telegram_calls = Counter(
            "paygate_telegram_calls",
            "Bot API calls by method and result (rate_limited: a 429)",
            ["method", "result"],
            registry=r,
        )
        self.outbox_settled = Counter(
            "paygate_outbox_effects",
            "Outbox messages tried, by what they did (grant, removal, reminder, ...) "
            "and how it ended (done, retried, dead)",
            ["effect", "outcome"],
            registry=r,
        )
        self.job_runs = Counter(
            "paygate_worker_job_runs",
            "Worker job runs by job and result",
            ["job", "result"],
            registry=r,
        )
        self.reconcile_finds = Counter(
            "paygate_reconcile_finds",
            "Payments reconciliation found: applied (a missed notification), "
            "abandoned (an invoice never paid), failed (the provider did not answer)",
            ["kind"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "paygate_outbox_backlog", "Outbox messages not yet performed", registry=r
        )
        self.outbox_oldest = Gauge(
            "paygate_outbox_oldest_age_seconds",
            "How long the oldest pending outbox message has waited",
            registry=r,
        )
        self.outbox_dead = Gauge(
            "paygate_outbox_dead_letters", "Outbox messages given up on", registry=r
        )
        self.breaker_state = Gauge(
            "paygate_circuit_state",
            "Circuit breaker state: 0 closed, 1 half open, 2 open",
            ["name"],
            registry=r,
        )

    def telegram_call(self, method: str, result: str) -> None:
        """Fits ``TelegramBotClient(observe=...)``."""
        self.telegram_calls.labels(method, result).inc()

    def message_settled(self, effect: str, outcome: str) -> None:
        """Fits ``OutboxDispatcher(observe=...)``."""
        self.outbox_settled.labels(effect, outcome).inc()

    def counted_job(
        self, name: str, run: Callable[[], Awaitable[object]]
    ) -> Callable[[], Awaitable[object]]:
        """``run``, counting each run of job ``name`` and, for reconciliation, what it found."""

        async def counted() -> object:
            try:
                result = await run()
            except Exception:
                self.job_runs.labels(name, "failed").inc()
                raise
            self.job_runs.labels(name, "ok").inc()
            if isinstance(result, ReconcileReport):
                self.reconcile_finds.labels("applied").inc(result.applied)
                self.reconcile_finds.labels("abandoned").inc(result.abandoned)
                self.reconcile_finds.labels("failed").inc(result.failed)
            return result

        return counted

    def scrape_refresh(
        self,
        backlog: Callable[[], Awaitable[OutboxBacklog]],
        breakers: Mapping[str, CircuitBreaker],
    ) -> Callable[[], Awaitable[None]]:
        """What ``/metrics`` runs first: the breakers' states, then the outbox backlog
        (a database read; if it fails the breakers are still current)."""

        async def refresh() -> None:
            for name, breaker in breakers.items():
                self.breaker_state.labels(name).set(_BREAKER_LEVELS[breaker.state])
            found = await backlog()
            self.outbox_pending.set(found.pending)
            self.outbox_oldest.set(found.oldest_age_seconds)
            self.outbox_dead.set(found.dead)

        return refresh
