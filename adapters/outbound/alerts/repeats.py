"""The repeat window: the same alert (same key) fires at most once per window."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from adapters.outbound.alerts.rendering import SEVERITY_RANK
from core.ports.alerts import Alert, Severity

__all__ = ["DEFAULT_MAX_KEYS", "RepeatSuppressor"]

DEFAULT_MAX_KEYS = 10_000
"""Keys remembered at once; past that the longest-quiet key is forgotten (its next
alert fires at once), so alerts keyed by an id cannot grow memory without bound."""


@attrs.define
class _Fired:
    at: datetime
    severity: Severity
    suppressed: int = 0


class RepeatSuppressor:
    """Decides whether an alert fires now, keeping per key when it last fired and how
    many repeats were swallowed since.

    * The first alert of a key fires and opens a window of ``window``.
    * A repeat inside the window is counted and dropped, unless it is more severe than
      the one that fired (a warning turning critical is news): that one fires and opens
      a new window.
    * The first repeat after the window fires with ``suppressed_repeats`` (how many
      were dropped) and ``suppressed_since`` (when the window opened) added to its
      details, so the operator knows it kept happening.

    Not thread-safe; the AlertService calls it from the event loop only."""

    def __init__(self, window: timedelta, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if window <= timedelta(0):
            raise ValueError("the repeat window must be positive")
        if max_keys < 1:
            raise ValueError("max_keys is at least 1")
        self._window = window
        self._max_keys = max_keys
        # Insertion order is firing order: the first entry has been quiet the longest.
        self._fired: dict[str, _Fired] = {}

    def admit(self, alert: Alert, now: datetime) -> Alert | None:
        """The alert to send now (possibly with the repeat count added), or None."""
        fired = self._fired.get(alert.key)
        if (
            fired is not None
            and now - fired.at < self._window
            and SEVERITY_RANK[alert.severity] <= SEVERITY_RANK[fired.severity]
        ):
            fired.suppressed += 1
            return None
        self._fired.pop(alert.key, None)
        self._fired[alert.key] = _Fired(now, alert.severity)
        while len(self._fired) > self._max_keys:
            del self._fired[next(iter(self._fired))]
        if fired is None or fired.suppressed == 0:
            return alert
        return attrs.evolve(
            alert,
            details={
                **alert.details,
                "suppressed_repeats": str(fired.suppressed),
                "suppressed_since": fired.at.isoformat(),
            },
        )
