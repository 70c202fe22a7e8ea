"""What a production install gets: the wheel built from pyproject.toml, by the build
backend the build uses (no network: the backend runs in this environment).

It holds PayGate's packages and the migrations, and not the emulators, the tests or
the benchmarks; its metadata has the licence, the console script and the Postgres
driver as an extra, and no test tool among what it requires.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core", "adapters", "composition", "sandbox", "tests", "bench")
TEST_TOOLS = ("pytest", "pytest-asyncio", "hypothesis", "mypy", "ruff", "import-linter")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # A copy of the tree, so the build's egg-info and build/ stay out of the checkout.
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    for name in SOURCES:
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_wheel(sys.argv[1]))",
            str(out),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return zipfile.ZipFile(out / build.stdout.strip().splitlines()[-1])


def test_the_wheel_holds_paygate_and_its_migrations_but_no_emulators_tests_or_benches(
    wheel: zipfile.ZipFile,
) -> None:
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}

    assert top == {"core", "adapters", "composition"}
    assert "composition/cli.py" in names
    assert "adapters/outbound/sqla/migrations/script.py.mako" in names
    assert any(n.startswith("adapters/outbound/sqla/migrations/versions/v0001") for n in names)


def test_the_metadata_names_the_licence_the_script_and_no_test_tool(
    wheel: zipfile.ZipFile,
) -> None:
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(info).decode())
    requires = metadata.get_all("Requires-Dist") or []
    unconditional = {
        r.split(";")[0].split(">")[0].split("[")[0].strip() for r in requires if ";" not in r
    }
    entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()

    assert metadata["License-Expression"] == "LicenseRef-Proprietary"
    assert info.replace("METADATA", "licenses/LICENSE") in wheel.namelist()
    assert "paygate = composition.cli:main" in entry_points
    assert metadata.get_all("Provides-Extra") == ["postgres"]
    assert 'asyncpg>=0.29; extra == "postgres"' in requires
    assert {"aiohttp", "sqlalchemy", "aiosqlite", "redis"} <= unconditional
    assert not unconditional & {*TEST_TOOLS, "asyncpg", "paygate-sandbox"}


def test_paygate_starts_without_the_postgres_driver_or_the_emulators() -> None:
    # A SQLite install has neither asyncpg nor the sandbox: importing every process's
    # wiring must not need them.
    probe = (
        "import sys; import composition.cli, composition.containers, composition.processes.run; "
        "loaded = sorted(m for m in ('asyncpg', 'sandbox') if m in sys.modules); "
        "print(','.join(loaded))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
