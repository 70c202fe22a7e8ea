"""Running a role until it is stopped: what ``paygate run|web|bot|worker`` does once
its arguments are parsed, and what a test root does with containers of its own.

A role is a set of parts: the worker loops (started by
:func:`~composition.processes.process.start_process`), the HTTP server
(:mod:`.web`) and the bot (:mod:`.bot`, by polling unless the HTTP server already
serves it by webhook).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Mapping

from adapters.outbound.sqla import SchemaMismatch, safe_url
from composition.config import Config, ConfigError, check_role, load_config
from composition.containers import Infrastructure
from composition.logging import configure_logging
from composition.processes.bot import start_bot
from composition.processes.ops import start_ops
from composition.processes.process import MONOLITH, Process, Roles, Starter, serve
from composition.processes.web import start_http
from composition.startup_errors import explain

logger = logging.getLogger("paygate")

ROLES: Mapping[str, Roles] = {
    "run": MONOLITH,
    "web": Roles(web=True),
    "bot": Roles(bot=True),
    "worker": Roles(worker=True),
}
"""The roles a process may be started in, by the name of their command."""


def starters_for(roles: Roles) -> list[Starter]:
    """The parts ``roles`` start besides the worker loops, in order: the HTTP server
    first, so that a bot served by webhook is started by it and not polled."""
    starters: list[Starter] = []
    if roles.web:
        starters.append(start_http)
    if roles.bot:
        starters.append(start_bot)
    # Observability (issue 18): worker and bot serve probes and metrics on their own port.
    if not roles.web:
        starters.append(start_ops)
    return starters


def run_role(
    role: str,
    *,
    log_level: str,
    json_logs: bool,
    infrastructure: Callable[[Config], Infrastructure] | None = None,
) -> int:
    """Load the configuration, set up logging and serve ``role`` (a key of
    :data:`ROLES`) until SIGTERM/SIGINT; the exit status. ``infrastructure`` builds
    the containers (a test root overrides some); by default the production ones."""
    roles = ROLES[role]
    try:
        config = load_config()
        warnings = check_role(config, role, credentials=False)
    except ConfigError as exc:
        configure_logging(level=log_level, json_lines=json_logs)
        return _fatal(f"configuration error: {exc}", json_logs, 2)
    # Every configured secret is masked wherever it shows up, beside the patterns.
    redactor = configure_logging(
        level=log_level,
        json_lines=json_logs,
        secrets=config.secret_values(),
        fields={"role": roles.describe()},
    )

    async def warn(_: Process) -> None:
        # Once the process is up: a refused start stays its one line.
        for warning in warnings:
            logger.warning("%s", warning)

    infra = infrastructure(config) if infrastructure is not None else None
    try:
        asyncio.run(
            serve(
                config,
                roles,
                [*starters_for(roles), warn],
                infra=infra,
                # Secrets re-read on SIGHUP and a timer; new ones are masked in logs too.
                reload=load_config,
                redact=lambda values: redactor.add(*values),
            )
        )
    except SchemaMismatch as exc:
        # The operator's next step is in the message; a traceback would bury it.
        return _fatal(f"{safe_url(config.database_url)}: {exc}", json_logs, 1)
    except ConfigError as exc:  # a credential this role needs, asked for as it is built
        return _fatal(f"configuration error: {exc}", json_logs, 2)
    except Exception as exc:
        line = explain(exc, config.database_url)
        if line is None:
            raise
        return _fatal(line, json_logs, 2)
    return 0


def _fatal(line: str, json_logs: bool, status: int) -> int:
    """A start refused: one line. As JSON through the logger when logs are JSON (a
    collector reads them), else plain on stderr (a person reads it)."""
    if json_logs:
        logger.critical("%s", line, extra={"fatal": True})
    else:
        sys.stderr.write(f"paygate: {line}\n")
    return status
