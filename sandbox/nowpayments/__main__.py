"""Run the NowPayments emulator on its own: ``python -m sandbox.nowpayments``.

The API key and IPN secret come from NOWPAYMENTS_EMULATOR_API_KEY and
NOWPAYMENTS_EMULATOR_IPN_SECRET (never from the command line, where ``ps`` shows
them); point PayGate's NowPayments settings at the same values.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from sandbox.nowpayments.emulator import NowPaymentsEmulator

logger = logging.getLogger("sandbox.nowpayments")


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} must be set")
    return value


async def _serve(host: str, port: int) -> None:
    emulator = NowPaymentsEmulator(
        api_key=_required_env("NOWPAYMENTS_EMULATOR_API_KEY"),
        ipn_secret=_required_env("NOWPAYMENTS_EMULATOR_IPN_SECRET"),
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
