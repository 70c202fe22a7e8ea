from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.inbound.worker.loops import Job, UnknownJob, WorkerLoops

TICK = timedelta(milliseconds=5)


async def test_each_job_runs_repeatedly_until_stopped() -> None:
    runs: list[str] = []
    third = asyncio.Event()

    async def work() -> None:
        runs.append("x")
        if len(runs) == 3:
            third.set()

    loops = WorkerLoops([Job("x", work, TICK)])
    task = asyncio.create_task(loops.run())
    await asyncio.wait_for(third.wait(), 1)
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert len(runs) >= 3


async def test_a_failing_run_does_not_stop_its_loop(caplog: pytest.LogCaptureFixture) -> None:
    attempts = 0
    second = asyncio.Event()

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("boom")
        second.set()

    loops = WorkerLoops([Job("flaky", flaky, TICK)])
    task = asyncio.create_task(loops.run())
    await asyncio.wait_for(second.wait(), 1)
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert "job flaky failed" in caplog.text


async def test_stop_lets_the_run_in_flight_finish() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    loops = WorkerLoops([Job("slow", slow, timedelta(hours=1))])
    task = asyncio.create_task(loops.run())
    await started.wait()
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert finished.is_set()


async def test_run_now_never_overlaps_the_loop_and_names_unknown_jobs() -> None:
    active = 0
    peak = 0

    async def job() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1

    loops = WorkerLoops([Job("sweep", job, TICK)])
    task = asyncio.create_task(loops.run())
    await asyncio.gather(*(loops.run_now("sweep") for _ in range(3)))
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert peak == 1
    with pytest.raises(UnknownJob, match="known: sweep"):
        await loops.run_now("nope")


async def test_a_served_job_runs_until_the_loops_stop_then_returns() -> None:
    events: list[str] = []
    serving = asyncio.Event()

    async def serve(stopping: asyncio.Event) -> None:
        events.append("serving")
        serving.set()
        await stopping.wait()
        events.append("finished its work in flight")

    async def once() -> None:
        events.append("one-off run")

    # An interval shorter than the test: a served job is not run again on it.
    loops = WorkerLoops([Job("dispatch", once, TICK, serve=serve)])
    task = asyncio.create_task(loops.run())
    await asyncio.wait_for(serving.wait(), 1)
    await asyncio.sleep(0.05)
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert events == ["serving", "finished its work in flight"]


async def test_a_served_job_that_fails_is_served_again(caplog: pytest.LogCaptureFixture) -> None:
    attempts = 0
    second = asyncio.Event()

    async def serve(stopping: asyncio.Event) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("lost the database")
        second.set()
        await stopping.wait()

    async def once() -> None:
        return None

    loops = WorkerLoops([Job("dispatch", once, TICK, serve=serve)])
    task = asyncio.create_task(loops.run())
    await asyncio.wait_for(second.wait(), 1)
    loops.stop()
    await asyncio.wait_for(task, 1)
    assert attempts == 2
    assert "job dispatch failed" in caplog.text


async def test_run_now_of_a_served_job_makes_its_one_off_run() -> None:
    async def serve(stopping: asyncio.Event) -> None:
        await stopping.wait()

    async def once() -> str:
        return "one batch settled"

    loops = WorkerLoops([Job("dispatch", once, timedelta(hours=1), serve=serve)])
    task = asyncio.create_task(loops.run())
    assert await asyncio.wait_for(loops.run_now("dispatch"), 1) == "one batch settled"
    loops.stop()
    await asyncio.wait_for(task, 1)
