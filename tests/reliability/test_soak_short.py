"""The soak (bench/bench_soak.py, ``make soak``) at a tiny scale, so that it cannot rot:
a minute of the same mix, kills and Redis restarts, and the same audit and leak check
as the hour-long run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_soak import Plan, soak_run
from tests.reliability.servers import redis_binary
from tests.services import require_postgres


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_minute_of_soak_holds_the_audit_and_does_not_leak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_postgres()
    redis_binary()
    code = await soak_run(tmp_path, Plan(minutes=1.0, rate=4.0, seed=23))
    printed = capsys.readouterr().out
    with capsys.disabled():
        print(printed)  # noqa: T201 - the figures, as `pytest -s` shows the battery's
    assert "exactly-once audit" in printed
    assert "processes killed" in printed
    assert code == 0, printed
