"""The ``paygate`` command.

Subcommands live in a registry: each is a :class:`Command` with a name, a one-line
help, a function that declares its arguments and a function that runs it. Adding one
is a call to :func:`register` (see ``_db_command`` below); ``main`` builds the parser
from whatever is registered.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import attrs
from sqlalchemy.engine import URL

from adapters.outbound.sqla import InvalidDatabaseUrl, database_url, downgrade, safe_url, upgrade
from adapters.outbound.sqla.url import DEFAULT_URL, ENV_VAR
from composition import runtime_commands
from composition.config import ConfigError, settings_environment
from composition.db_backup import add_backup_action
from composition.version import paygate_version
from core.ports.errors import Unavailable

Runner = Callable[[argparse.Namespace], int]
"""Runs a parsed command line; returns the process exit status."""


@attrs.frozen
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    """Declares the command's arguments, and sets ``run`` (a Runner) as a default on
    the parser or on each of its own subparsers."""
    description: str | None = None


_REGISTRY: dict[str, Command] = {}


def register(command: Command) -> Command:
    if command.name in _REGISTRY:
        raise ValueError(f"the command {command.name!r} is already registered")
    _REGISTRY[command.name] = command
    return command


def commands() -> Sequence[Command]:
    return tuple(_REGISTRY.values())


# ------------------------------------------------------------------ paygate db


def _db_url() -> URL:
    # Like every other command: .env in the working directory, then the environment.
    try:
        return database_url(settings_environment())
    except ConfigError as exc:  # a malformed .env
        raise InvalidDatabaseUrl(str(exc)) from exc


def _db_upgrade(args: argparse.Namespace) -> int:
    url = _db_url()
    upgrade(url, args.revision)
    sys.stdout.write(f"Database {safe_url(url)} is at revision {args.revision}.\n")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    url = _db_url()
    downgrade(url, args.revision)
    sys.stdout.write(f"Database {safe_url(url)} is back at revision {args.revision}.\n")
    return 0


def _configure_db(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION")
    actions.required = True
    up = actions.add_parser(
        "upgrade",
        help="create or migrate the schema (to the newest revision by default)",
        description="Apply the migrations up to REVISION (default: head).",
    )
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.set_defaults(run=_db_upgrade)
    down = actions.add_parser(
        "downgrade",
        help="revert migrations down to a revision ('base' drops every PayGate table)",
        description="Revert the migrations down to REVISION; 'base' removes the whole schema.",
    )
    down.add_argument("revision", help="target revision, e.g. base or 0001")
    down.set_defaults(run=_db_downgrade)
    add_backup_action(actions)


register(
    Command(
        name="db",
        help="database schema migrations",
        description=(
            f"Manage the database schema. The database is {ENV_VAR}, read from the "
            f"environment and .env like every other command (unset: {DEFAULT_URL}, a file "
            "in the current directory)."
        ),
        configure=_configure_db,
    )
)


runtime_commands.register_all(register, Command)


# ------------------------------------------------------------------ entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paygate",
        description=(
            "PayGate sells access to private Telegram channels for crypto. "
            "Run 'paygate COMMAND --help' for a command's options."
        ),
    )
    parser.add_argument("--version", action="version", version=f"paygate {paygate_version()}")
    sub = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    sub.required = True
    for command in commands():
        command.configure(
            sub.add_parser(
                command.name,
                help=command.help,
                description=command.description or command.help,
            )
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``paygate`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except InvalidDatabaseUrl as exc:
        parser.exit(2, f"paygate: {exc}\n")
    except Unavailable as exc:
        cause = str(exc.__cause__ or "").strip().splitlines()
        parser.exit(1, f"paygate: {exc}" + (f" ({cause[0]})" if cause else "") + "\n")


if __name__ == "__main__":
    sys.exit(main())
