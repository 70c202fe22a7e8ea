"""The house rule, checked by reading the code: core imports nothing but the standard
library, attrs and itself, and never reads the clock or makes ids on its own."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
ALLOWED = set(sys.stdlib_module_names) | {"attrs", "core", "__future__"}
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("uuid", "uuid4"), ("time", "time")}


def core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_has_modules_to_check() -> None:
    assert len(core_modules()) > 20


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_imports_only_the_standard_library_and_attrs(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert imported_roots(tree) - ALLOWED == set()


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_takes_time_and_ids_from_ports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            assert (name, node.func.attr) not in FORBIDDEN_CALLS, f"line {node.lineno}"


def test_the_check_would_catch_an_infrastructure_import() -> None:
    assert imported_roots(ast.parse("import aiohttp\nfrom sqlalchemy import select")) - ALLOWED == {
        "aiohttp",
        "sqlalchemy",
    }
