"""Servers the reliability tests start, stop and kill themselves: a ``redis-server``
and a PostgreSQL cluster (``initdb`` + ``pg_ctl``), each in a temporary directory on
a free loopback port. The machine's own servers are never touched.

Where the binaries are missing the test is skipped with a message, and fails with
``CI=true`` (tests that need Redis or Postgres must run there).
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
from sqlalchemy.engine import URL, make_url

from composition.demo.environment import free_port
from tests.services import in_ci

START_WITHIN = 30.0


def _missing(what: str, how: str) -> None:
    message = f"{what} is not installed here. {how}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: the reliability battery must run)", pytrace=False)
    pytest.skip(message)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        _missing("redis-server", "Install Redis (apt-get install redis-server).")
    assert found is not None
    return found


def postgres_binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb, or ``pg_ctl``'s
    directory on PATH."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None and Path(on_path).with_name("initdb").exists():
        return Path(on_path).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    if not found:
        _missing("PostgreSQL's initdb and pg_ctl", "Install postgresql (the server package).")
    return Path(found[-1]).parent


@attrs.define
class RedisServer:
    """``redis-server`` without persistence on a loopback port of its own."""

    binary: str
    directory: Path
    port: int = attrs.Factory(free_port)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - the machine's redis-server
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    async def started(self) -> None:
        deadline = asyncio.get_running_loop().time() + START_WITHIN
        while asyncio.get_running_loop().time() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise AssertionError(f"redis-server did not listen on {self.port}")

    def kill(self) -> None:
        """SIGKILL: as a crashed or OOM-killed Redis, everything it held is gone."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary(), directory)
    try:
        yield server
    finally:
        server.kill()


@attrs.define
class PostgresCluster:
    """A cluster of its own: ``initdb`` into a temporary directory, ``pg_ctl`` to start
    and stop it. Run as the ``postgres`` user when the test runs as root (initdb refuses
    root)."""

    bin: Path
    data: Path
    port: int = attrs.Factory(free_port)

    @property
    def url(self) -> URL:
        return make_url(f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(  # noqa: S603 - the machine's PostgreSQL binaries
            command, capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=60"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-l", str(self.data / "log"), "-o",
            options,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are cut off and the server shuts down cleanly;
        ``immediate``: as a crash, the server recovers from its WAL at the next start."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """An initialised, started cluster, stopped and removed after the test."""
    binaries = postgres_binaries()
    # Not the test's tmp_path: as root the server runs as ``postgres``, which must own
    # its data directory and reach it.
    root = Path(tempfile.mkdtemp(prefix="paygate-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chmod(root, 0o755)  # noqa: S103 - the data directory below is 0700
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = PostgresCluster(binaries, data)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
