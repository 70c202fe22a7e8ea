"""The release this code is, as installed (``paygate --version``, each start line)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def paygate_version() -> str:
    try:
        return version("paygate")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
