"""The house rules, checked by reading the code: core imports nothing but the standard
library, attrs and itself, never reads the clock or makes ids on its own, and holds no
words people read."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

from adapters.catalog.buttons import (
    APPROVE_SELLER_PREFIX,
    CANCEL_DONATION,
    CONFIRM_PREFIX,
    DECLINE_SELLER_PREFIX,
    OTHER_AMOUNT_PREFIX,
    PRESET_PREFIX,
    RENEW_PREFIX,
    RESEND_PREFIX,
)
from core.domain.errors import DomainError
from core.domain.messages import NOTICE_KINDS

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


# ------------------------------------------------------------------ no runtime in core
# A use case awaits its ports one after another (``async def``, ``await``, ``async
# with``): that is all core needs of asyncio, and none of it is imported. Running
# things at once, slots, leases, wake-ups and sleeping between rounds are the
# worker's (adapters.inbound.worker): a use case that did them would hide a
# scheduling policy, and its tests would have to wait on real time. import-linter
# forbids the modules; this also catches the names reached some other way (a loop
# or a task handed in through a port).
RUNTIME_MODULES = {"asyncio", "threading", "concurrent", "multiprocessing", "sched"}
RUNTIME_NAMES = {
    "create_task", "TaskGroup", "ensure_future", "gather", "wait_for", "as_completed",
    "shield", "sleep", "timeout", "Semaphore", "BoundedSemaphore", "Event", "Lock",
    "Condition", "Barrier", "Queue", "Task", "Future", "run_in_executor", "to_thread",
    "call_later", "call_soon", "get_running_loop", "get_event_loop", "new_event_loop",
    "Thread", "ThreadPoolExecutor",
}  # fmt: skip


def runtime_uses(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.append(node.module)
            found += [m for m in modules if m.split(".")[0] in RUNTIME_MODULES]
        elif isinstance(node, ast.Attribute) and node.attr in RUNTIME_NAMES:
            found.append(f"{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Name) and node.id in RUNTIME_NAMES:
            found.append(f"{node.id} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_manages_no_tasks(path: Path) -> None:
    assert runtime_uses(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_check_would_catch_task_management() -> None:
    code = (
        "import asyncio\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "async def f(port):\n"
        "    loop = port.loop\n"
        "    loop.create_task(port.go())\n"
        "    await port.stopping.wait_for(1)\n"
    )
    assert runtime_uses(ast.parse(code)) == [
        "asyncio",
        "concurrent.futures",
        "create_task (line 5)",
        "wait_for (line 6)",
    ]


def test_the_check_lets_a_use_case_await_its_ports() -> None:
    code = (
        "async def f(uow, chat):\n"
        "    async with uow() as tx:\n"
        "        await chat.send(await tx.outbox.claim())\n"
    )
    assert runtime_uses(ast.parse(code)) == []


# ------------------------------------------------------------------ use case size
MOST_CLASS_LINES = 149
"""A use case class longer than this does more than one thing: split it where its
concerns part."""


def service_classes() -> list[tuple[str, int]]:
    sizes: list[tuple[str, int]] = []
    for path in sorted((CORE / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                sizes.append((node.name, node.end_lineno - node.lineno + 1))
    return sizes


def test_every_use_case_class_stays_short() -> None:
    too_long = {name: lines for name, lines in service_classes() if lines > MOST_CLASS_LINES}
    assert too_long == {}


# ---------------------------------------------------------------- words
# The core says what a message means; the words are the Telegram adapter's catalog's.
# No notice is built from a literal text, the module that makes notices holds no
# words, and no button encoding (callback prefix, deep link) is spelled in core.

NOTICE_CLASSES = {cls.__name__ for cls in NOTICE_KINDS} | {
    "OpenLink",
    "Checkout",
    "CheckoutWithBot",
    "DecideSeller",
    "OfferedTier",
    "VerbatimButton",
}
VERBATIM_ONLY_IN = {"core/domain/outbox.py"}
"""Where the core may build a Verbatim notice: decoding rows an older release wrote."""
NOTICES_MODULE = CORE / "services" / "notices.py"
NOTICES_MODULE_VALUES = {"owner"}
"""The only string a notice-making module holds that is not a docstring: a fold label."""
BUTTON_ENCODINGS = {
    CONFIRM_PREFIX,
    RENEW_PREFIX,
    RESEND_PREFIX,
    PRESET_PREFIX,
    OTHER_AMOUNT_PREFIX,
    CANCEL_DONATION,
    APPROVE_SELLER_PREFIX,
    DECLINE_SELLER_PREFIX,
    "t.me/",
}


def literal_words(node: ast.AST) -> bool:
    """Whether ``node`` is or makes a text written in place (a string literal, an
    f-string, or one joined to something); a key looked up is not words."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return literal_words(node.left) or literal_words(node.right)
    if isinstance(node, ast.IfExp):
        return literal_words(node.body) or literal_words(node.orelse)
    return False


def notices_built_from_literals(tree: ast.AST) -> list[int]:
    """Lines where a notice or button is built with a text written in place."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
            arguments = [*node.args, *(k.value for k in node.keywords)]
            if name in NOTICE_CLASSES and any(literal_words(a) for a in arguments):
                lines.append(node.lineno)
    return lines


def docstrings(tree: ast.AST) -> set[int]:
    """Ids of the string constants that are docstrings (a statement of their own)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def strings(tree: ast.AST) -> list[str]:
    skip = docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ] + ["<f-string>" for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_builds_no_notice_from_words_written_in_place(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert notices_built_from_literals(tree) == []
    where = str(path.relative_to(CORE.parent))
    if where not in VERBATIM_ONLY_IN:
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Verbatim"
        ]
        assert calls == [], f"{where} sends words of its own"


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_spells_no_button_encoding(path: Path) -> None:
    found = [
        s
        for s in strings(ast.parse(path.read_text(encoding="utf-8")))
        if s in BUTTON_ENCODINGS or "t.me/" in s
    ]
    assert found == []


def test_the_module_that_makes_notices_holds_no_words() -> None:
    tree = ast.parse(NOTICES_MODULE.read_text(encoding="utf-8"))
    assert set(strings(tree)) <= NOTICES_MODULE_VALUES


def test_the_words_checks_would_catch_a_text_in_core() -> None:
    tree = ast.parse(
        'told = JoinDeclined(f"Sorry, {title}")\n'
        'x = Reminder(title, ends, Checkout("o:" + token))\n'
        'y = notices.PausedSales(title, "paused")\n'
    )
    assert sorted(notices_built_from_literals(tree)) == [1, 2, 3]
    assert {"o:", "<f-string>", "paused"} <= set(strings(tree))


# ---------------------------------------------------- words outside core
# Where the words are written, in the catalog and the bot's inbound adapter, every
# sentence a person reads goes through gettext (_() or n_()), so each language's
# catalog has it. A literal with two words side by side is a sentence unless it is a
# docstring, a log line or a programmer's error; the few others are named below.

ROOT = CORE.parent
WORDS_AREAS = (
    ROOT / "adapters" / "catalog",
    ROOT / "adapters" / "inbound" / "telegram",
    ROOT / "adapters" / "inbound" / "http" / "dashboard",
)
SENTENCE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")
GETTEXT = {"_", "n_"}
PROGRAMMERS_ERRORS = {"ValueError", "TypeError", "RuntimeError", "LookupError", "KeyError"}
NOT_WORDS = {
    "adapters/catalog/texts.py": {"/wallet 1 btc bc1q…"},  # an example of what to type
    "adapters/inbound/telegram/conversation.py": {"conversation timeouts"},  # a task's name
    "adapters/inbound/http/dashboard/chart.py": {  # SVG markup, not words
        '<rect class="bar" x="',
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ',
    },
}


def words_modules() -> list[Path]:
    return sorted(p for area in WORDS_AREAS for p in area.rglob("*.py"))


def sentences_outside_gettext(tree: ast.AST) -> list[str]:
    """Sentence-like literals that no _()/n_() call takes (f-strings' parts included)."""
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        owner = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else None
        )
        if name in GETTEXT or name in PROGRAMMERS_ERRORS or owner == "logger":
            skip |= {id(sub) for sub in ast.walk(node) if sub is not node}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and SENTENCE.search(node.value)
    ]


@pytest.mark.parametrize("path", words_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sentence_bypasses_the_catalogs_gettext(path: Path) -> None:
    where = str(path.relative_to(ROOT))
    found = set(sentences_outside_gettext(ast.parse(path.read_text(encoding="utf-8"))))
    assert found <= NOT_WORDS.get(where, set())


def test_the_gettext_check_would_catch_a_sentence_written_in_place() -> None:
    tree = ast.parse(
        '"""A docstring is not words."""\n'
        'logger.info("a log line is not read by people")\n'
        'ok = _("Your subscription has ended")\n'
        'bad = f"Welcome to {title}"\n'
        'worse = OutgoingMessage("Pay now, please")\n'
    )
    assert sentences_outside_gettext(tree) == ["Welcome to ", "Pay now, please"]


# ---------------------------------------------------- refusals and pauses in core
# A domain error says why with a code and values (core.domain.errors.Why), and a
# pause the system makes stores a code (core.domain.pause): the catalog words both in
# the reader's language. Neither is ever built from a text written in place.

PAUSING_CALLS = {"pause", "pause_channel", "pause_sales"}


def domain_error_names() -> set[str]:
    for path in core_modules():
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    found: set[str] = set()
    todo: list[type] = [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


DOMAIN_ERRORS = domain_error_names()


def worded_refusals(tree: ast.AST) -> list[int]:
    """Lines where a domain error, or a pause, is given a text written in place."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            arguments = [*node.args, *(k.value for k in node.keywords)]
            if name in DOMAIN_ERRORS | PAUSING_CALLS and any(map(has_sentence, arguments)):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id.endswith("PAUSE_REASON") for t in node.targets)
            and has_sentence(node.value)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def has_sentence(node: ast.AST) -> bool:
    """Whether ``node`` holds a sentence written in place (a code such as
    ``"cancelled"`` is not one)."""
    return any(
        isinstance(sub, ast.Constant) and isinstance(sub.value, str) and SENTENCE.search(sub.value)
        for sub in ast.walk(node)
    )


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_refuses_and_pauses_with_codes_not_words(path: Path) -> None:
    assert worded_refusals(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_refusal_check_would_catch_words() -> None:
    tree = ast.parse(
        'raise InvalidTier(f"tier {n} is not sold")\n'
        'raise UnknownChannel("no such channel")\n'
        'await self._sales.pause(chat, "the bot cannot post")\n'
        'ERASED_PAUSE_REASON = "the owner was erased"\n'
        "raise InvalidTier(Why.NO_SUCH_TIER, number=n)\n"
    )
    assert worded_refusals(tree) == [1, 2, 3, 4]
