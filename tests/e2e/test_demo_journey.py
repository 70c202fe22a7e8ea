"""The demo's journey as a test: the monolith against the Telegram and NowPayments
emulators over real loopback sockets, every step through webhooks, the bot, the
outbox and the workers. What the emulators recorded is the evidence."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from composition.demo.run import run_demo
from composition.secret_source import SECRET_VARIABLES


async def test_the_whole_journey_runs_and_every_step_happens() -> None:
    out = io.StringIO()
    code = await run_demo(out=out)
    transcript = out.getvalue()
    assert code == 0, transcript
    for step in (
        "Alpha Signals is registered",
        "offer posted",
        "payment confirmed, personal link",
        "New subscription in Alpha Signals",
        "sam is a member",
        "declined eve",
        "Renew to keep your access",
        "now runs until",
        "removed sam from the closed channel",
        "→ dana: Apoya a Alpha Signals con una donación.",
        "¡Gracias! Tu donación de 5 USD a Alpha Signals ha llegado.",
        "Donation to Alpha Signals",
        "rob is a member",
        "removed rob from the closed channel; → rob: Your payment of 10 USD",
        "Refund in Alpha Signals: user 2004",
        "the bot said yes to the pre-checkout query: 1200 Stars paid",
        "stella is a member",
        "→ owner: Refunded 1200 XTR of payment stx",
        "removed stella from the closed channel; → stella: Your payment of 1200 XTR",
        "chain intact: True",
    ):
        assert step in transcript, f"missing step: {step}\n{transcript}"


def test_paygate_demo_with_secrets_from_the_secret_manager_emulator_runs_the_journey(
    tmp_path: Path,
) -> None:
    # The real command, in a process of its own: nothing secret in its environment
    # (the demo makes fresh ones and moves them into the emulator it starts).
    inherited = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-m", "composition.cli", "demo", "--secrets", "gsm"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=inherited,
        check=False,
    )
    transcript = done.stdout
    assert done.returncode == 0, transcript + done.stderr[-3000:]
    read = next(line for line in transcript.splitlines() if "Secret Manager emulator" in line)
    assert read.endswith(
        "7 secrets read from the Secret Manager emulator: encryption_keys, mac_keys, "
        "nowpayments_api_key, nowpayments_ipn_secret, nowpayments_password, "
        "oidc_client_secret, telegram_bot_token"
    ), read
    for step in ("Alpha Signals is registered", "New subscription in Alpha Signals"):
        assert step in transcript, f"missing step: {step}\n{transcript}"
