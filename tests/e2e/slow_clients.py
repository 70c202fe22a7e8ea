"""Clients that hold connections to a web process the way a slowloris attack does:
connect and say nothing, send a request head one line at a time, or a body one byte
at a time. Each slot reconnects as soon as it is closed, as attack tools do, until
its time is up; what happened to every connection is recorded."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from enum import StrEnum

import attrs


class Kind(StrEnum):
    IDLE = "idle"
    """Connects and sends nothing."""
    HEADERS = "headers"
    """Sends the request line, then one header line per pace, never the blank line."""
    BODY = "body"
    """Sends a whole head announcing 1,000 bytes, then one byte per pace."""


REFUSED_WITHIN = 0.5
"""A connection closed this soon, with no answer, was refused at the door."""


@attrs.frozen
class Closed:
    kind: Kind
    lived: float
    """Seconds from connect to the server closing it."""
    answer: bytes
    """What the server sent before closing (its status line, when it answered)."""

    @property
    def refused(self) -> bool:
        return self.lived < REFUSED_WITHIN and not self.answer


@attrs.define
class Tally:
    closed: list[Closed] = attrs.Factory(list)
    open_now: int = 0
    most_open: int = 0
    connect_failures: int = 0

    def held(self) -> None:
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)

    def by_outcome(self) -> Counter[str]:
        return Counter(
            "refused" if c.refused else f"{c.kind} closed after ~{round(c.lived)} s"
            for c in self.closed
        )


def _opening(kind: Kind, port: int) -> bytes:
    if kind is Kind.HEADERS:
        return f"POST /webhooks/nowpayments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    if kind is Kind.BODY:
        return (
            f"POST /webhooks/nowpayments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        ).encode()
    return b""


async def hold_once(
    kind: Kind, port: int, source: str, pace: float, until: float, tally: Tally
) -> Closed | None:
    """One connection, trickled until the server closes it (returned) or time is up."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        tally.connect_failures += 1
        return None
    started = time.monotonic()
    tally.held()
    answer = b""
    try:
        writer.write(_opening(kind, port))
        n = 0
        while time.monotonic() < until:
            try:
                answer = await asyncio.wait_for(reader.read(64), pace)
            except TimeoutError:
                n += 1
                if kind is Kind.HEADERS:
                    writer.write(f"X-Slow-{n}: {n}\r\n".encode())
                elif kind is Kind.BODY:
                    writer.write(b" ")
                continue
            # Data or EOF: the server answered or closed; read what is left of it.
            if answer:
                answer += await asyncio.wait_for(reader.read(), 10)
            return Closed(kind, time.monotonic() - started, answer)
        return None
    except (ConnectionError, TimeoutError):
        return Closed(kind, time.monotonic() - started, answer)
    finally:
        tally.open_now -= 1
        writer.close()


async def keep_holding(
    kind: Kind, port: int, source: str, pace: float, seconds: float, tally: Tally
) -> None:
    """One attacker slot: holds a connection, and another when that one is closed."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        closed = await hold_once(kind, port, source, pace, until, tally)
        if closed is not None:
            tally.closed.append(closed)
        if closed is None or closed.refused:
            await asyncio.sleep(0.5)  # the door is shut: knock again later, not in a spin
