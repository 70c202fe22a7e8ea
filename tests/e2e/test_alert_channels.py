"""A real ``paygate web`` process sending its alerts by email (SMTP with STARTTLS and
a login, to aiosmtpd) and as Standard Webhooks (checked with the ``standardwebhooks``
package, a verifier this project did not write), both configured only through
``PAYGATE_ALERT_*``. The alert: a correctly signed payment notification for an order
the process never issued (critical)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import attrs
import standardwebhooks
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from composition.demo.environment import free_port
from tests.contract.alerts.tls import loopback_tls
from tests.e2e.lone_web import lone_web

USER, PASSWORD = "alerts@paygate.test", "smtp-password-" + "q" * 12
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"w" * 32).decode()
WAIT = 15.0


@attrs.define
class Mailbox:
    """What the SMTP server accepted, and who logged in over what."""

    messages: list[email.message.EmailMessage] = attrs.Factory(list)
    logins: list[tuple[str, bool]] = attrs.Factory(list)
    """(user, whether the connection was encrypted) of each successful login."""

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        if ok:
            self.logins.append((USER, session.ssl is not None))
        return AuthResult(success=ok)


@contextmanager
def smtp_server(directory: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    """aiosmtpd on 127.0.0.1 that insists on STARTTLS before anything, and on a login
    (only over TLS); its certificate is self-signed, written out as the CA to trust."""
    tls = loopback_tls()
    ca_file = directory / "smtp-ca.pem"
    ca_file.write_bytes(tls.certificate_pem)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.server,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=mailbox.authenticate,
        ready_timeout=10.0,
    )
    controller.start()
    try:
        yield mailbox, port, ca_file
    finally:
        controller.stop()


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def take(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/paygate", take)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield received, f"http://127.0.0.1:{port}/hooks/paygate"
    finally:
        await runner.cleanup()


async def _until(condition: Any, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)


async def test_a_critical_alert_arrives_by_email_over_starttls_and_as_a_verified_webhook(
    tmp_path: Path,
) -> None:
    with smtp_server(tmp_path) as (mailbox, smtp_port, ca_file):
        async with webhook_receiver() as (hooks, hook_url):
            env = {
                "PAYGATE_ALERT_SMTP_HOST": "127.0.0.1",
                "PAYGATE_ALERT_SMTP_PORT": str(smtp_port),
                "PAYGATE_ALERT_SMTP_SECURITY": "starttls",
                "PAYGATE_ALERT_SMTP_USERNAME": USER,
                "PAYGATE_ALERT_SMTP_PASSWORD": PASSWORD,
                "PAYGATE_ALERT_SMTP_CA_FILE": str(ca_file),
                "PAYGATE_ALERT_SMTP_FROM": "paygate@paygate.test",
                "PAYGATE_ALERT_SMTP_TO": "ops@paygate.test,oncall@paygate.test",
                "PAYGATE_ALERT_SMTP_MIN_SEVERITY": "critical",
                "PAYGATE_ALERT_WEBHOOK_URL": hook_url,
                "PAYGATE_ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
            async with lone_web(tmp_path, env) as web_process:
                status, _ = await web_process.post_ipn()
                await _until(lambda: mailbox.messages and hooks)
                log = web_process.process.log()
    assert status == 200
    assert len(mailbox.messages) == 1, log
    mail = mailbox.messages[0]
    assert mail["Subject"].startswith("[PayGate \N{POLICE CARS REVOLVING LIGHT} CRITICAL]")
    assert mail["To"] == "ops@paygate.test, oncall@paygate.test"
    assert "unknown_order" in mail.get_content()
    assert mailbox.logins == [(USER, True)]
    assert len(hooks) == 1, log
    headers, body = hooks[0]
    payload = standardwebhooks.Webhook(WEBHOOK_SECRET).verify(body, headers)
    assert payload["type"] == "alert.raised"
    assert payload["data"]["severity"] == "critical"
    assert payload["data"]["details"]["outcome"] == "unknown_order"
    assert PASSWORD not in log


def _check_config(env: dict[str, str], directory: Path) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "HOME") if k in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "composition.cli", "check-config"],
        env={**keep, **env},
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _base_env(directory: Path) -> dict[str, str]:
    from adapters.outbound.crypto.fernet_cipher import generate_key

    return {
        "PAYGATE_ENCRYPTION_KEYS": generate_key(),
        "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'x.db'}",
    }


def test_check_config_shows_the_alert_channels_with_their_secrets_masked(tmp_path: Path) -> None:
    token_url = "https://hooks.example.test/T0KEN-in-the-path"
    result = _check_config(
        {
            **_base_env(tmp_path),
            "PAYGATE_ALERT_SMTP_HOST": "smtp.example.test",
            "PAYGATE_ALERT_SMTP_USERNAME": USER,
            "PAYGATE_ALERT_SMTP_PASSWORD": PASSWORD,
            "PAYGATE_ALERT_SMTP_FROM": "paygate@example.test",
            "PAYGATE_ALERT_SMTP_TO": "ops@example.test",
            "PAYGATE_ALERT_WEBHOOK_URL": token_url,
            "PAYGATE_ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    shown = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert shown["alerts.email.settings.host"] == "smtp.example.test"
    assert shown["alerts.email.settings.port"] == "587"
    assert shown["alerts.email.settings.password"] == "*** (set)"
    assert shown["alerts.webhook.url"] == "*** (set)"
    assert shown["alerts.webhook.secret"] == "*** (set)"
    for secret in (PASSWORD, "T0KEN", WEBHOOK_SECRET):
        assert secret not in result.stdout


def test_a_webhook_secret_that_is_not_whsec_base64_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    result = _check_config(
        {
            **_base_env(tmp_path),
            "PAYGATE_ALERT_WEBHOOK_URL": "https://hooks.example.test/a",
            "PAYGATE_ALERT_WEBHOOK_SECRET": "whsec_tooshort",
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "paygate: configuration error: PAYGATE_ALERT_WEBHOOK_SECRET: the webhook secret"
        " must be 24 to 64 bytes, got 6"
    ]
