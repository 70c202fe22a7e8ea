"""The log channel: one line per alert at the severity's level, details cut and kept
on one line, the same facts as extra fields for the JSON formatter."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.outbound.alerts import LogAlertSink
from core.ports.alerts import Alert, Severity

LOGGER = "test.alerts.log_sink"


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.INFO, logging.INFO),
        (Severity.WARNING, logging.WARNING),
        (Severity.CRITICAL, logging.CRITICAL),
    ],
)
async def test_the_log_level_follows_the_severity(
    caplog: pytest.LogCaptureFixture, severity: Severity, level: int
) -> None:
    sink = LogAlertSink(logging.getLogger(LOGGER))

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        await sink.send(Alert(severity, "Outbox is behind", key="outbox.lag"))

    assert [(r.levelno, r.getMessage()) for r in records(caplog)] == [
        (level, f"alert outbox.lag [{severity.value}] Outbox is behind")
    ]


async def test_details_are_written_as_text_and_as_extra_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = LogAlertSink(logging.getLogger(LOGGER))
    alert = Alert(
        Severity.WARNING,
        "Outbox is behind",
        key="outbox.lag",
        details={"rows": "412", "oldest": "9 min"},
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await sink.send(alert)

    [record] = records(caplog)
    assert (
        record.getMessage() == "alert outbox.lag [warning] Outbox is behind rows=412 oldest=9 min"
    )
    assert record.__dict__["alert_severity"] == "warning"
    assert record.__dict__["alert_title"] == "Outbox is behind"
    assert record.__dict__["alert_key"] == "outbox.lag"
    assert json.loads(record.__dict__["alert_details"]) == {"rows": "412", "oldest": "9 min"}


async def test_long_values_are_cut_and_line_breaks_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = LogAlertSink(logging.getLogger(LOGGER), value_limit=20)
    alert = Alert(
        Severity.CRITICAL,
        "Provider error",
        key="nowpayments.error",
        details={"body": "<html>" + "x" * 100, "title": "Gold\nalert fake [critical] owned"},
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await sink.send(alert)

    [record] = records(caplog)
    assert record.getMessage() == (
        "alert nowpayments.error [critical] Provider error"
        " body=<html>xxxxxxxxxxxxxx\N{HORIZONTAL ELLIPSIS} (86 more characters)"
        " title=Gold\\nalert fake [cri\N{HORIZONTAL ELLIPSIS} (12 more characters)"
    )
    assert "\n" not in record.getMessage()
    assert json.loads(record.__dict__["alert_details"])["body"] == (
        "<html>xxxxxxxxxxxxxx\N{HORIZONTAL ELLIPSIS} (86 more characters)"
    )


def test_the_value_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LogAlertSink(value_limit=0)
