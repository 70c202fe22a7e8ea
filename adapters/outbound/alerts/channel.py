"""What every alert channel offers the AlertService, besides the AlertSink port.

The port's ``send`` never raises, which is right for a caller but hides failures from
a circuit breaker. So each channel also has ``deliver``, which raises
:class:`AlertDeliveryFailed` when the alert did not get through: the service calls
``deliver`` under a breaker, and anyone holding one channel as a plain AlertSink gets
the best-effort ``send``.
"""

from __future__ import annotations

import abc
import logging
from typing import Protocol

from core.ports.alerts import Alert
from core.ports.errors import PortError, Unavailable

__all__ = ["AlertChannel", "AlertDeliveryFailed", "BestEffortChannel", "describe_failure"]

logger = logging.getLogger("paygate.alerts")


class AlertDeliveryFailed(Unavailable):
    """The channel could not deliver the alert. The message names the channel and the
    kind of failure (an HTTP status, an SMTP reply code, an exception class), never a
    URL, an address's password or a server's free text."""


class AlertChannel(Protocol):
    @property
    def name(self) -> str:
        """Unique among the service's channels; names its circuit breaker."""
        ...

    async def deliver(self, alert: Alert) -> None:
        """Deliver or raise (AlertDeliveryFailed, Unavailable)."""
        ...


def describe_failure(exc: BaseException) -> str:
    """Text about a failure that is safe to log: our own port errors carry messages
    written for logs; anything else is named by its class only, because a driver's
    message may quote a URL with a token in it or a server's reply."""
    if isinstance(exc, PortError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


class BestEffortChannel(abc.ABC):
    """Gives a channel the AlertSink port's ``send``: deliver, and on failure write a
    warning instead of raising."""

    @property
    @abc.abstractmethod
    def name(self) -> str: ...

    @abc.abstractmethod
    async def deliver(self, alert: Alert) -> None: ...

    async def send(self, alert: Alert) -> None:
        try:
            await self.deliver(alert)
        except Exception as exc:
            logger.warning(
                "alert channel %s could not deliver alert %s: %s",
                self.name,
                alert.key,
                describe_failure(exc),
            )
