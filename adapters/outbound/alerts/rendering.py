"""How an alert reads as text: one severity marker, the title, then the details.

Shared by the sinks that show an alert to a person (Telegram, email, the log line),
so an operator reads the same words whichever channel reached them first.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.ports.alerts import Alert, Severity

__all__ = ["SEVERITY_RANK", "one_line", "plain_text", "severity_marker", "truncate"]

SEVERITY_RANK: Mapping[Severity, int] = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.CRITICAL: 2,
}
"""Severity is an unordered StrEnum in the port; routing and escalation need an order."""

_MARKERS: Mapping[Severity, str] = {
    Severity.INFO: "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16}",
    Severity.WARNING: "\N{WARNING SIGN}\N{VARIATION SELECTOR-16}",
    Severity.CRITICAL: "\N{POLICE CARS REVOLVING LIGHT}",
}


def severity_marker(severity: Severity) -> str:
    """An emoji and the severity's name in capitals: the emoji catches the eye in a
    chat list, the word survives clients (and screen readers) that drop emoji."""
    return f"{_MARKERS[severity]} {severity.value.upper()}"


def truncate(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, saying how much was cut, so a stack
    trace or a provider's HTML error page cannot flood a chat or a log line."""
    if limit < 1:
        raise ValueError("the limit is at least one character")
    if len(value) <= limit:
        return value
    return f"{value[:limit]}\N{HORIZONTAL ELLIPSIS} ({len(value) - limit} more characters)"


def one_line(value: str) -> str:
    """Line breaks shown as ``\\n``: a detail must not be able to forge a second log
    line in a plain-text log."""
    return value.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def plain_text(alert: Alert, *, value_limit: int) -> str:
    """The alert as a plain-text message: marker and title, a blank line, one
    ``name: value`` line per detail (values truncated to ``value_limit``), and the
    alert's key, which is what an operator searches the logs for."""
    lines = [f"{severity_marker(alert.severity)}: {alert.title}", ""]
    lines.extend(f"{name}: {truncate(value, value_limit)}" for name, value in alert.details.items())
    lines.append(f"alert key: {alert.key}")
    return "\n".join(lines)
