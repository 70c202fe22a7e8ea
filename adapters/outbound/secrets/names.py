"""How a secret's name, as the core asks for it, becomes a variable, a file or a secret id."""

from __future__ import annotations

import re

ENV_PREFIX = "PAYGATE_"

# An identifier: safe as an environment variable suffix, a file name in a mounted
# secrets directory (no separators, no "..") and a Secret Manager secret id.
_NAME = re.compile(r"\A[A-Za-z][A-Za-z0-9_]{0,99}\Z")


def check_secret_name(name: str) -> str:
    """``name`` itself, or ValueError: a malformed name is a bug in the caller, not a
    missing secret."""
    if _NAME.match(name) is None:
        raise ValueError(
            f"a secret name is a letter then up to 99 letters, digits or '_', got {name!r}"
        )
    return name


def env_var_for(name: str) -> str:
    """``bot_token`` -> ``PAYGATE_BOT_TOKEN``."""
    return ENV_PREFIX + check_secret_name(name).upper()
