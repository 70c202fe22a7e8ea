"""Worker jobs: outbox dispatch, expiry sweeps, broadcasts, reconciliation.

Each job runs in its own loop, one run at a time, then sleeps its interval; a failed
run is logged and the loop goes on (the next run retries, the work is idempotent).
A job that must not wait for its next round (the outbox dispatcher: a subscriber who
paid is waiting) is served instead: it runs until the loops stop, wakes itself when
there is work, and is started again after its interval if it fails.
Stopping is graceful: the loops finish the run in flight, then return, so no claim
is abandoned mid-way (and a claim that is, by a kill, comes back when its lease ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import attrs

logger = logging.getLogger("paygate.worker")


@attrs.frozen
class Job:
    name: str
    run: Callable[[], Awaitable[object]]
    every: timedelta
    serve: Callable[[asyncio.Event], Awaitable[object]] | None = None
    """If set, the loop runs ``serve(stopping)`` instead of ``run`` every ``every``:
    it keeps going until ``stopping`` is set, then finishes its work in flight and
    returns. ``run`` stays the one-off run of :meth:`WorkerLoops.run_now`."""


class UnknownJob(LookupError):
    """No job of that name runs in this process."""


class WorkerLoops:
    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = {job.name: job for job in jobs}
        self._locks = {job.name: asyncio.Lock() for job in jobs}
        self._stop = asyncio.Event()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._jobs)

    def stop(self) -> None:
        self._stop.set()

    async def run_now(self, name: str) -> object:
        """Run one job immediately (an external scheduler's trigger), never two at once.

        For a served job this is one run beside the service, which the job must allow
        (the outbox dispatcher does: claims never overlap)."""
        job = self._jobs.get(name)
        if job is None:
            raise UnknownJob(f"no job named {name!r}; known: {', '.join(self._jobs)}")
        async with self._locks[name]:
            return await job.run()

    async def run(self) -> None:
        """Run every loop until :meth:`stop`; returns once the runs in flight finished."""
        await asyncio.gather(*(self._loop(job) for job in self._jobs.values()))

    async def _loop(self, job: Job) -> None:
        while not self._stop.is_set():
            try:
                if job.serve is not None:
                    result = await job.serve(self._stop)
                else:
                    async with self._locks[job.name]:
                        result = await job.run()
                logger.debug("job %s: %s", job.name, result, extra={"job": job.name})
            except Exception:
                logger.exception(
                    "job %s failed; it runs again in %s",
                    job.name,
                    job.every,
                    extra={"job": job.name},
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), job.every.total_seconds())
