"""What a dispatcher run knows and has not stored yet, and what it reports.

Outcomes are stored with the run's next claim, in the same transaction, or on their
own once a claim's worth waits or the first of them has waited ``within``: fewer
transactions when work trickles in. If the process dies meanwhile, those effects are
performed again (they are idempotent), so nothing here is needed for correctness.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from core.domain.messages import Reminder
from core.domain.outbox import Effect, EffectKind, OutboxMessage, OutboxStatus, SendMessage
from core.ports.clock import Clock
from core.services.settle_outbox import Outcome

__all__ = ["DispatchReport", "SettleObserver", "Tally", "Unstored", "effect_label"]

SettleObserver = Callable[[str, str], None]
"""Told of every message tried: what it did (:func:`effect_label`) and how it ended
(``done``, ``retried``, ``dead``): bounded sets, fit for metric labels."""

_EFFECT_LABELS = {
    EffectKind.ISSUE_INVITE: "grant",
    EffectKind.REMOVE_MEMBER: "removal",
    EffectKind.APPROVE_JOIN: "join_approval",
    EffectKind.DECLINE_JOIN: "join_decline",
    EffectKind.REFRESH_INVITE: "invite_refresh",
    EffectKind.ISSUE_BUNDLE_INVITE: "bundle_grant",
    EffectKind.LEAVE_BUNDLE: "bundle_removal",
}


def effect_label(effect: Effect) -> str:
    """The business fact a message carries: a grant, a removal, a reminder, another
    message; never whom it concerns."""
    if isinstance(effect, SendMessage):
        return "reminder" if isinstance(effect.message, Reminder) else "message"
    return _EFFECT_LABELS[effect.kind]


@attrs.frozen
class DispatchReport:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    """Put back untried, due at their chat's turn."""


@attrs.define
class Tally:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    observe: SettleObserver | None = None

    def settled(self, message: OutboxMessage) -> None:
        """``message`` was tried (alone or in a digest)."""
        if message.status is OutboxStatus.DONE:
            self.done += 1
            outcome = "done"
        elif message.status is OutboxStatus.DEAD:
            self.dead += 1
            outcome = "dead"
        else:
            self.retried += 1
            outcome = "retried"
        if self.observe is not None:
            self.observe(effect_label(message.effect), outcome)

    def report(self) -> DispatchReport:
        return DispatchReport(self.claimed, self.done, self.retried, self.dead, self.deferred)


class Unstored:
    def __init__(self, clock: Clock, within: timedelta, most: int) -> None:
        self._clock = clock
        self._within = within
        self._most = most
        self._outcomes: list[Outcome] = []
        self._since = clock.now()
        """When the first outcome not yet stored was known."""

    def __bool__(self) -> bool:
        return bool(self._outcomes)

    def add(self, outcome: Outcome) -> None:
        if not self._outcomes:
            self._since = self._clock.now()
        self._outcomes.append(outcome)

    def take(self) -> tuple[list[Outcome], datetime]:
        """Every outcome, to be stored, and since when they waited (for :meth:`restore`)."""
        outcomes, self._outcomes = self._outcomes, []
        return outcomes, self._since

    def restore(self, outcomes: list[Outcome], since: datetime) -> None:
        """Storing ``outcomes`` failed: they wait again, ahead of any gathered since."""
        self._outcomes[:0] = outcomes
        self._since = since

    def due(self) -> bool:
        """Whether the outcomes must be stored now, without waiting for a claim to
        carry them."""
        if not self._outcomes:
            return False
        return len(self._outcomes) >= self._most or self._clock.now() >= self.deadline()

    def deadline(self) -> datetime:
        """When the outcomes gathered must be stored at the latest."""
        return self._since + self._within
