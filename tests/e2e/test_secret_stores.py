"""Real ``paygate`` processes reading their secrets from each store PAYGATE_SECRETS
names: Secret Manager (the local emulator), mounted files, the environment; a rotated
IPN secret taking effect on SIGHUP without a restart; a broken store refused in one
line naming the variable."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import aiohttp

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from composition.secret_source import SECRET_VARIABLES, secret_name
from core.domain.ids import IntentId
from core.domain.order_id import OrderId
from core.domain.signing import MacKeyring
from sandbox.nowpayments.js_form import sign
from sandbox.secretmanager import SecretManagerEmulator
from tests.e2e.emulated import NP_SECRET, open_emulators
from tests.e2e.processes import CLI, PaygateProcess, fleet_in

NEW_IPN_SECRET = "np-ipn-rotated-" + "r" * 20


def _move_secrets_to(env: dict[str, str], store: SecretManagerEmulator) -> dict[str, str]:
    """``env`` without its secrets, which ``store`` now holds."""
    kept = dict(env)
    for variable in SECRET_VARIABLES:
        if variable in kept:
            store.add_version(secret_name(variable), kept.pop(variable))
    return kept


def _signed_ipn(keyring: MacKeyring, secret: str) -> tuple[bytes, dict[str, str]]:
    payload = {
        "payment_id": secrets.randbelow(10**10),
        "payment_status": "finished",
        "pay_address": "bc1qexampleaddressexampleaddressexample",
        "price_amount": Decimal(10),
        "price_currency": "usd",
        "pay_amount": Decimal("0.004"),
        "actually_paid": Decimal("0.004"),
        "pay_currency": "btc",
        "order_id": str(OrderId.issue(IntentId(secrets.token_hex(8)), keyring)),
        "order_description": "tier 1, 30 days",
        "outcome_amount": Decimal("0.004"),
        "outcome_currency": "btc",
        "updated_at": int(time.time() * 1000),
    }
    body, signature = sign(payload, secret)
    return body, {"Content-Type": "application/json", "x-nowpayments-sig": signature}


async def _post_ipn(url: str, keyring: MacKeyring, secret: str) -> int:
    body, headers = _signed_ipn(keyring, secret)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/webhooks/nowpayments", data=body, headers=headers) as answer,
    ):
        return answer.status


async def _wait_for_log(process: PaygateProcess, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + 15
    while process.current_log().count(text) < count:
        assert time.monotonic() < deadline, process.tail()
        await asyncio.sleep(0.05)


async def _paygate(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """``python -m composition.cli ARGS`` as a subprocess, without blocking the loop
    that serves the emulators it calls."""
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")
    base = {name: os.environ[name] for name in keep if name in os.environ}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CLI,
        *args,
        env={**base, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_web_reads_secret_manager_and_takes_a_rotated_ipn_secret_on_sighup(
    tmp_path: Path,
) -> None:
    async with (
        open_emulators(tmp_path / "gsm.db") as emulated,
        SecretManagerEmulator() as gsm,
    ):
        key_file = tmp_path / "service-account.json"
        key_file.write_text(json.dumps(gsm.service_account_key()))
        env = _move_secrets_to(emulated.env, gsm) | {
            "PAYGATE_SECRETS": "gsm",
            "PAYGATE_GSM_PROJECT": gsm.project,
            "PAYGATE_GSM_URL": gsm.base_url,
            "PAYGATE_GSM_CREDENTIALS_FILE": str(key_file),
        }
        config = await asyncio.to_thread(load_config, env, tmp_path / "none.env")
        assert config.nowpayments.ipn_secret is not None
        assert config.nowpayments.ipn_secret.reveal() == NP_SECRET
        await asyncio.to_thread(upgrade, config.database_url, "head")
        with fleet_in(tmp_path) as fleet:
            web = fleet.add("web", "web", env)
            web.start()
            await web.wait_started()
            assert await _post_ipn(emulated.url, config.keyring, NP_SECRET) == 200
            assert await _post_ipn(emulated.url, config.keyring, NEW_IPN_SECRET) == 401

            gsm.add_version("nowpayments_ipn_secret", NEW_IPN_SECRET)
            os.kill(web.pid, signal.SIGHUP)
            await _wait_for_log(web, "NowPayments IPN secret changed")

            assert await _post_ipn(emulated.url, config.keyring, NEW_IPN_SECRET) == 200
            assert await _post_ipn(emulated.url, config.keyring, NP_SECRET) == 401
            assert NEW_IPN_SECRET not in web.log()
            assert await fleet.stop_all() == {"web": 0}


async def test_check_config_reads_secret_manager_with_the_metadata_servers_token(
    tmp_path: Path,
) -> None:
    async with (
        open_emulators(tmp_path / "gsm.db") as emulated,
        SecretManagerEmulator() as gsm,
    ):
        env = _move_secrets_to(emulated.env, gsm) | {
            "PAYGATE_SECRETS": "gsm",
            "PAYGATE_GSM_PROJECT": gsm.project,
            "PAYGATE_GSM_URL": gsm.base_url,
            "PAYGATE_GSM_METADATA_URL": gsm.base_url,
            "PAYGATE_GSM_VERSIONS": "nowpayments_ipn_secret=1",
        }
        gsm.add_version("nowpayments_ipn_secret", NEW_IPN_SECRET)
        code, out, err = await _paygate("check-config", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "nowpayments.ipn_secret" in out
        assert NP_SECRET not in out and NEW_IPN_SECRET not in out
        # The pinned version, not the newer one.
        assert "nowpayments_ipn_secret/1" in gsm.accesses


async def test_a_secret_manager_of_another_project_is_refused_in_one_line(tmp_path: Path) -> None:
    async with (
        open_emulators(tmp_path / "gsm.db") as emulated,
        SecretManagerEmulator() as gsm,
    ):
        env = _move_secrets_to(emulated.env, gsm) | {
            "PAYGATE_SECRETS": "gsm",
            "PAYGATE_GSM_PROJECT": "someone-elses",
            "PAYGATE_GSM_URL": gsm.base_url,
            "PAYGATE_GSM_METADATA_URL": gsm.base_url,
        }
        code, _, err = await _paygate("web", env=env, cwd=tmp_path)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("paygate: configuration error: PAYGATE_TELEGRAM_BOT_TOKEN")
    assert "secretmanager.versions.access" in err


async def test_web_reads_mounted_secret_files(tmp_path: Path) -> None:
    async with open_emulators(tmp_path / "files.db") as emulated:
        mounted = tmp_path / "run-secrets"
        mounted.mkdir()
        env = dict(emulated.env) | {"PAYGATE_SECRETS": "files"}
        for variable in SECRET_VARIABLES:
            if variable in env:
                path = mounted / secret_name(variable)
                path.write_text(env.pop(variable) + "\n")
                env[variable + "_FILE"] = str(path)
        config = await asyncio.to_thread(load_config, env, tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        with fleet_in(tmp_path) as fleet:
            web = fleet.add("web", "web", env)
            web.start()
            await web.wait_started()
            assert await _post_ipn(emulated.url, config.keyring, NP_SECRET) == 200
            # A rotated mount, then SIGHUP (as a sidecar that updates secrets would).
            (mounted / "nowpayments_ipn_secret").write_text(NEW_IPN_SECRET)
            os.kill(web.pid, signal.SIGHUP)
            await _wait_for_log(web, "NowPayments IPN secret changed")
            assert await _post_ipn(emulated.url, config.keyring, NEW_IPN_SECRET) == 200
            assert await fleet.stop_all() == {"web": 0}


async def test_a_missing_secret_file_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {
        "PAYGATE_SECRETS": "files",
        "PAYGATE_MAC_KEYS_FILE": str(tmp_path / "absent"),
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    code, _, err = await _paygate("check-config", env=env, cwd=tmp_path)
    assert code == 2
    assert err == (
        "paygate: configuration error: PAYGATE_MAC_KEYS_FILE: secret 'mac_keys' is missing: "
        f"no file {tmp_path / 'absent'}\n"
    )


async def test_a_secret_file_without_the_files_store_is_refused(tmp_path: Path) -> None:
    env = {"PAYGATE_IPN_SECRET_FILE": "/x", "PAYGATE_NOWPAYMENTS_IPN_SECRET_FILE": "/x"}
    code, _, err = await _paygate("check-config", env=env, cwd=tmp_path)
    assert code == 2
    assert err == (
        "paygate: configuration error: PAYGATE_NOWPAYMENTS_IPN_SECRET_FILE is set but "
        "PAYGATE_SECRETS is env: set PAYGATE_SECRETS=files to read secrets from files\n"
    )
