"""Real ``paygate`` processes for end-to-end tests: started as a deployment starts
them (``python -m composition.cli <role>``, configuration in the environment), waited
on until they say they started, stopped with SIGTERM or killed with SIGKILL.

Each process writes its log to a file of its own; a test that fails shows the tail
of every log, which is where the reason usually is.

Every start is an :class:`Incarnation` with its own record of how it ended (stopped,
killed, still running), so crash tests can tell which start of which process did
what, and whether that start was killed before it could finish.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs

STARTED = re.compile(r"paygate [\w+ ]+ started: version")
"""The one start line every process logs once it serves (not a library's own
"Application started", which the bot may log before the HTTP server listens)."""
CLI = "composition.cli"
"""The module a deployment runs (``paygate`` is its console script)."""
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class ProcessFailed(AssertionError):
    """A process did not start, or stopped when it should not have."""


@attrs.define
class Incarnation:
    """One start of a process, from launch to exit."""

    number: int
    started_at: float
    """``time.monotonic()`` at launch."""
    env: dict[str, str]
    """The variables this start was given on top of the process's own."""
    ended_at: float | None = None
    """When this test first saw the process gone."""
    returncode: int | None = None

    @property
    def killed(self) -> bool:
        """Ended by SIGKILL (its own injected fault, or the test's kill)."""
        return self.returncode == -signal.SIGKILL


@attrs.define
class PaygateProcess:
    """One running ``paygate <role>`` process."""

    name: str
    role: str
    env: dict[str, str]
    log_path: Path
    root: str = CLI
    """The module run with ``python -m``: the CLI, or a test root of the same roles."""
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    incarnations: list[Incarnation] = attrs.Factory(list)

    def start(self, overrides: Mapping[str, str] | None = None) -> None:
        """Launch (or relaunch after a stop or a kill) with the same configuration, plus
        ``overrides`` for this start only."""
        if self.running:
            raise ProcessFailed(f"{self.name} is already running")
        self.starts += 1
        extra = dict(overrides or {})
        self.incarnations.append(Incarnation(self.starts, time.monotonic(), extra))
        log = self.log_path.open("ab")
        log.write(f"---- start #{self.starts} of {self.name} ----\n".encode())
        log.flush()
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", self.root, self.role, "--log-level", "INFO"],
            env={**self.env, **extra},
            cwd=self.log_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        if self.popen is None:
            return False
        code = self.popen.poll()
        if code is None:
            return True
        self._note_exit(code)
        return False

    @property
    def current(self) -> Incarnation:
        if not self.incarnations:
            raise ProcessFailed(f"{self.name} was never started")
        return self.incarnations[-1]

    def _note_exit(self, code: int) -> None:
        current = self.current
        if current.ended_at is None:
            current.ended_at, current.returncode = time.monotonic(), code

    def cpu_seconds(self) -> float | None:
        """CPU time the running process used so far (Linux), for the figures tests print."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ProcessFailed):
            return None
        # utime and stime: fields 14 and 15 of stat(5), counted after the command name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise ProcessFailed(f"{self.name} was never started")
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def current_log(self) -> str:
        """The log of the latest start only."""
        return self.log().rpartition(f"---- start #{self.starts} of {self.name} ----")[2]

    async def wait_started(self, within: float = START_TIMEOUT) -> None:
        """Until the process logs that it started; fails early if it exits."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if STARTED.search(self.current_log()):
                return
            if not self.running:
                raise ProcessFailed(f"{self.name} exited during start-up:\n{self.tail()}")
            await asyncio.sleep(0.05)
        raise ProcessFailed(f"{self.name} did not start within {within:.0f} s:\n{self.tail()}")

    async def stop(self, within: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for the graceful stop; returns the exit code."""
        if not self.running:
            return self.returncode
        assert self.popen is not None
        self.popen.send_signal(signal.SIGTERM)
        return await self._wait(within)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crashed host would leave it."""
        if not self.running:
            return
        assert self.popen is not None
        self.popen.kill()
        await self._wait(STOP_TIMEOUT)

    @property
    def returncode(self) -> int:
        if self.popen is None or self.popen.returncode is None:
            raise ProcessFailed(f"{self.name} has not exited")
        return self.popen.returncode

    async def _wait(self, within: float) -> int:
        assert self.popen is not None
        deadline = time.monotonic() + within
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                self.popen.kill()
                self._note_exit(self.popen.wait())
                raise ProcessFailed(f"{self.name} did not stop within {within:.0f} s")
            await asyncio.sleep(0.05)
        self._note_exit(self.popen.returncode)
        return self.popen.returncode

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@attrs.define
class Fleet:
    """The processes of one test; every one is stopped (or killed) at the end."""

    directory: Path
    processes: list[PaygateProcess] = attrs.Factory(list)

    def add(self, name: str, role: str, env: Mapping[str, str], root: str = CLI) -> PaygateProcess:
        process = PaygateProcess(
            name,
            role,
            {**_inherited_environment(), **env},
            self.directory / f"{name}.log",
            root,
        )
        self.processes.append(process)
        return process

    async def start_all(self) -> None:
        for process in self.processes:
            if not process.running:
                process.start()
        await asyncio.gather(*(p.wait_started() for p in self.processes))

    async def stop_all(self) -> dict[str, int]:
        codes = await asyncio.gather(*(p.stop() for p in self.processes))
        return {p.name: code for p, code in zip(self.processes, codes, strict=True)}

    async def kill_all(self) -> None:
        await asyncio.gather(*(p.kill() for p in self.processes))

    def logs(self) -> str:
        return "\n".join(f"==== {p.name}\n{p.tail()}" for p in self.processes)


CHECKOUT = Path(__file__).resolve().parents[2]
"""The checkout under test: first on a process's path, so that it runs this tree's
code (not another checkout's editable install) and test roots such as
``tests.e2e.faulty_process`` import from the fleet's directory."""


def _inherited_environment() -> dict[str, str]:
    """What a process needs from ours (PATH, locale, the virtualenv), and no
    ``PAYGATE_*`` setting that the test did not choose; no ``.env`` is read either,
    because processes run in the fleet's directory."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(CHECKOUT), env.get("PYTHONPATH", "")) if part
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextmanager
def fleet_in(directory: Path) -> Iterator[Fleet]:
    """A fleet whose processes are killed if the test leaves without stopping them."""
    fleet = Fleet(directory)
    try:
        yield fleet
    finally:
        for process in fleet.processes:
            if process.running and process.popen is not None:
                process.popen.kill()
                process.popen.wait()
