"""What the demo prints: who did what, when (real seconds and PayGate's day)."""

from __future__ import annotations

import time
from typing import TextIO

import attrs

from composition.demo.clock import TimeControl


@attrs.define
class Transcript:
    out: TextIO
    clock: TimeControl
    started: float = attrs.field(factory=time.monotonic)

    def say(self, actor: str, text: str) -> None:
        elapsed = time.monotonic() - self.started
        day = self.clock.offset.days
        self.out.write(f"[{elapsed:6.2f}s | day {day:3d}] {actor:<10} {text}\n")
        self.out.flush()
