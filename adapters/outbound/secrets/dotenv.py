"""A ``.env`` file: ``KEY=VALUE`` lines, the format docker compose and shells share.

Understood: blank lines, ``#`` comments (whole-line, or after whitespace following an
unquoted value), an optional ``export `` prefix, single quotes (literal) and double
quotes (with ``\\n``, ``\\t``, ``\\"`` and ``\\\\`` escapes). A value spans one line.
Errors name the file and the line number and never quote the line: it may hold a secret.
"""

from __future__ import annotations

import re
from pathlib import Path

_ASSIGNMENT = re.compile(
    r"\A(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?P<rest>.*)\Z"
)
_AFTER_QUOTE = re.compile(r"\A[ \t]*(?:#.*)?\Z")
_INLINE_COMMENT = re.compile(r"[ \t]#")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class DotEnvError(ValueError):
    """The ``.env`` file cannot be read as KEY=VALUE lines."""


def _double_quoted(rest: str) -> tuple[str, str] | None:
    """The unescaped value and what follows the closing quote, or None if unclosed."""
    out: list[str] = []
    index = 1
    while index < len(rest):
        char = rest[index]
        if char == '"':
            return "".join(out), rest[index + 1 :]
        if char == "\\" and index + 1 < len(rest):
            following = rest[index + 1]
            out.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        out.append(char)
        index += 1
    return None


def _value(rest: str, key: str, where: str) -> str:
    if rest[:1] == '"':
        parsed = _double_quoted(rest)
    elif rest[:1] == "'":
        end = rest.find("'", 1)
        parsed = None if end < 0 else (rest[1:end], rest[end + 1 :])
    else:
        comment = _INLINE_COMMENT.search(rest)
        return (rest if comment is None else rest[: comment.start()]).strip()
    if parsed is None:
        raise DotEnvError(f"{where}: the value of {key} opens a quote it never closes")
    value, trailer = parsed
    if _AFTER_QUOTE.match(trailer) is None:
        raise DotEnvError(f"{where}: the value of {key} has text after its closing quote")
    return value


def parse_dotenv(text: str, source: str) -> dict[str, str]:
    """Variables defined in ``text``; a later definition of a key wins, as in a shell.
    ``source`` names the file in errors."""
    variables: dict[str, str] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(stripped)
        where = f"{source}, line {number}"
        if match is None:
            raise DotEnvError(f"{where}: expected KEY=VALUE (or a # comment)")
        key = match["key"]
        variables[key] = _value(match["rest"], key, where)
    return variables


def load_dotenv(path: Path) -> dict[str, str]:
    """Variables from the file at ``path``; an absent file defines none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DotEnvError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DotEnvError(f"{path}, line {line}: not UTF-8 text") from None
    return parse_dotenv(text, str(path))
