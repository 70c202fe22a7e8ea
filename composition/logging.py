"""Structured JSON logs, with secrets redacted before anything is written.

One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
exception's traceback when there is one, and any ``extra`` fields. Every text that
reaches the output (message, arguments, traceback, stack, extras) passes through a
:class:`Redactor` first:

* known secret values, registered at start-up and whenever a secret is loaded
  (bot token, API keys, IPN and webhook secrets, signing keys, database password),
  are replaced wherever they appear, also in their URL-encoded form;
* patterns catch secrets nobody registered: Telegram bot tokens (``123456:AA...``)
  and Bot API URL paths (``/bot<token>/``), passwords in URLs
  (``scheme://user:password@host``), ``Bearer``/``Basic`` credentials, values of
  secret-looking keys (``password=``, ``"api_key": "..."``, ``x-api-key: ...``,
  ``x-nowpayments-sig``, ``X-Telegram-Bot-Api-Secret-Token``, ``signature``,
  ``token``, ``secret``...), and long hex strings such as HMAC signatures;
* ``extra`` fields whose name looks secret are dropped to ``***`` whatever they hold.

Besides its own ``extra`` fields (``intent``, ``order``, ``update_id``, ``job``...),
every line carries the fields the process set once at start (``role``), so lines
from several processes in one collector can be told apart.

The filter rewrites the record itself (message, pre-formatted traceback), so the
handlers that run after it see the redacted text too, never the raw exception.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "JsonFormatter",
    "RedactingFilter",
    "Redactor",
    "TextFormatter",
    "configure_logging",
]

MASK = "***"
MIN_SECRET_LENGTH = 6
"""Registered values shorter than this are not searched for: masking every "abc" in
every line would hide more than it protects (such a secret is too weak anyway)."""

_SENSITIVE_NAMES = (
    r"password|passwd|pwd|pass|secret|client[_-]?secret|token|access[_-]?token|"
    r"refresh[_-]?token|bot[_-]?token|api[_-]?key|apikey|x-api-key|private[_-]?key|"
    r"signature|sig|x-nowpayments-sig|x-paygate-signature|"
    r"x-telegram-bot-api-secret-token|authorization|cookie|set-cookie|session|dsn|"
    r"ipn[_-]?secret|fernet[_-]?keys?|mac[_-]?keys?|signing[_-]?keys?"
)
_SECRET_NAME = re.compile(rf"(?i)\A(?:[a-z0-9_.-]*[_.-])?(?:{_SENSITIVE_NAMES})\Z")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram Bot API paths: /bot<token>/getMe, /file/bot<token>/...
    (re.compile(r"/bot[^/\s?#\"']+"), "/bot" + MASK),
    # Telegram bot tokens anywhere: <bot id>:<35 characters>.
    (re.compile(r"(?<![A-Za-z0-9_-])\d{5,16}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])"), MASK),
    # Passwords in URLs: postgresql://user:pw@host, redis://:pw@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    # HTTP credentials: whatever follows the scheme (or the header), to the line's end.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*)[^\r\n,;}]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # key=value, key: value, "key": "value", 'key': 'value' for secret-looking keys.
    (
        re.compile(
            rf"(?i)([\"']?\b[a-z0-9_.-]*(?:{_SENSITIVE_NAMES})[\"']?\s*[:=]\s*)"
            r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&}\])\"']+)"
        ),
        r"\1" + MASK,
    ),
    # Long hex strings: HMAC-SHA256/512 signatures, hex keys.
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{40,}(?![0-9A-Za-z])"), MASK),
)


class Redactor:
    """Masks registered secret values and secret-shaped text. Thread-safe."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more secret values (e.g. once the secret store answered)."""
        variants = set(self._values)
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
            # How the value looks inside a JSON string or a repr.
            variants.add(json.dumps(secret)[1:-1])
            variants.add(repr(secret)[1:-1])
        with self._lock:
            # Longest first, so a secret containing another is masked whole.
            self._values = tuple(sorted(variants, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _redact_value(redact: Redactor, name: str, value: Any) -> Any:
    if _SECRET_NAME.match(name):
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(repr(value))


class RedactingFilter(logging.Filter):
    """Rewrites each record with secrets masked: put it on every handler."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact(text)
            # The formatted text replaces the live exception: no later handler can
            # format the original (unredacted) one again.
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, _redact_value(redact, name, value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; redacts again, so it is safe even without the filter.
    ``fields`` go on every line (a record's own ``extra`` of the same name wins)."""

    def __init__(self, redactor: Redactor, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.redactor = redactor
        self.fields = dict(fields or {})

    def format(self, record: logging.LogRecord) -> str:
        redact = self.redactor
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        exc_text = record.exc_text
        if record.exc_info and not exc_text:
            exc_text = self.formatException(record.exc_info)
        if exc_text:
            entry["exception"] = redact(exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = _redact_value(redact, name, value)
        for name, value in self.fields.items():
            if name not in entry:
                entry[name] = _redact_value(redact, name, value)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, redacted like the JSON ones."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def configure_logging(
    level: int | str = logging.INFO,
    *,
    json_lines: bool = True,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Redactor:
    """Send every log record to ``stream`` (stderr), redacted, as JSON lines or as
    text, replacing the root logger's handlers. ``fields`` go on every JSON line
    (e.g. the process's role). Returns the redactor, to register secrets loaded
    later."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter(redactor, fields) if json_lines else TextFormatter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log would repeat every request line at INFO; the metrics
    # count requests already.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # httpx (under python-telegram-bot) logs every Bot API call at INFO: a line per
    # message sent drowns what matters. Failures still come through at WARNING.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return redactor
