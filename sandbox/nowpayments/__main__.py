"""Run the NowPayments emulator on its own: ``python -m sandbox.nowpayments``.

The API key and IPN secret come from NOWPAYMENTS_EMULATOR_API_KEY and
NOWPAYMENTS_EMULATOR_IPN_SECRET (never from the command line, where ``ps`` shows
them); point PayGate's NowPayments settings at the same values. The account that
``POST /v1/auth`` logs in (for listing payments) is NOWPAYMENTS_EMULATOR_ACCOUNT_EMAIL
and NOWPAYMENTS_EMULATOR_ACCOUNT_PASSWORD, both or neither; without them every login
is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from sandbox.nowpayments.emulator import NowPaymentsEmulator

logger = logging.getLogger("sandbox.nowpayments")
_EMAIL_VAR = "NOWPAYMENTS_EMULATOR_ACCOUNT_EMAIL"
_PASSWORD_VAR = "NOWPAYMENTS_EMULATOR_ACCOUNT_PASSWORD"  # noqa: S105 - a variable's name


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} must be set")
    return value


def _account_from_env() -> tuple[str | None, str | None]:
    email = os.environ.get(_EMAIL_VAR) or None
    password = os.environ.get(_PASSWORD_VAR) or None
    # Half an account is a typo, not a choice: name the missing half.
    if email is None and password is not None:
        raise SystemExit(f"{_EMAIL_VAR} must be set when {_PASSWORD_VAR} is")
    if password is None and email is not None:
        raise SystemExit(f"{_PASSWORD_VAR} must be set when {_EMAIL_VAR} is")
    return email, password


async def _serve(host: str, port: int) -> None:
    email, password = _account_from_env()
    emulator = NowPaymentsEmulator(
        api_key=_required_env("NOWPAYMENTS_EMULATOR_API_KEY"),
        ipn_secret=_required_env("NOWPAYMENTS_EMULATOR_IPN_SECRET"),
        account_email=email,
        account_password=password,
    )
    base_url = await emulator.start(host, port)
    logger.info("NowPayments emulator ready at %s (Ctrl-C stops it)", base_url)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
