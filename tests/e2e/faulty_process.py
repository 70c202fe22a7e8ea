"""``python -m tests.e2e.faulty_process ROLE``: a PayGate process for the crash tests.

It runs exactly what ``paygate ROLE`` runs, built from the production containers,
except that the store's units of work, the Messenger and the ChatAccess are
overridden with the fault wrappers of :mod:`tests.e2e.faults` when
``PAYGATE_TEST_FAULTS`` names rules. Production composition does not know this
variable or the wrappers: crashing on purpose is a property of this test root only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from dependency_injector import providers

from composition.config import Config
from composition.containers import Infrastructure
from composition.processes.run import ROLES, run_role
from tests.e2e.faults import (
    FaultInjector,
    FaultyChatAccess,
    FaultyMessenger,
    FaultyUnitOfWorkFactory,
    parse_faults,
)

FAULTS_VARIABLE = "PAYGATE_TEST_FAULTS"


def _as_built(provider: providers.Singleton[Any]) -> providers.Singleton[Any]:
    """A provider that builds what ``provider`` builds in production, so that an
    override of ``provider`` can wrap it without calling itself."""
    return providers.Singleton(provider.provides, *provider.args, **provider.kwargs)


def install_faults(infra: Infrastructure, faults: FaultInjector) -> Infrastructure:
    """``infra`` with the fault points around the store's units of work (below the
    commits' wake-ups, as a crash would meet them), the Messenger and the ChatAccess."""
    infra.store_uow.override(
        providers.Singleton(FaultyUnitOfWorkFactory, _as_built(infra.store_uow), faults)
    )
    infra.messenger.override(
        providers.Singleton(FaultyMessenger, _as_built(infra.messenger), faults)
    )
    infra.chat_access.override(
        providers.Singleton(FaultyChatAccess, _as_built(infra.chat_access), faults)
    )
    return infra


def faulty_infrastructure(config: Config) -> Infrastructure:
    """The production containers; with the fault wrappers if the environment has rules."""
    infra = Infrastructure(config=config)
    rules = parse_faults(os.environ.get(FAULTS_VARIABLE, ""))
    return install_faults(infra, FaultInjector(rules)) if rules else infra


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.faulty_process")
    parser.add_argument("role", choices=sorted(ROLES))
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--json-logs", action="store_true")
    args = parser.parse_args(argv)
    return run_role(
        args.role,
        log_level=args.log_level,
        json_logs=args.json_logs,
        infrastructure=faulty_infrastructure,
    )


if __name__ == "__main__":
    sys.exit(main())
