"""The real clock and the real id generator."""

from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator

__all__ = ["RandomIdGenerator", "SystemClock"]
