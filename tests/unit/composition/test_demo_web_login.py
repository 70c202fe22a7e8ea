"""The demo's "Log in with Telegram": our client registered at the emulator's provider
with the callback of the demo's port, the demo's owner logged in there, the provider
on the demo's clock, and settings that load."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from composition.config import load_config
from composition.demo.clock import DemoClock
from composition.demo.environment import demo_environment
from composition.demo.people import OWNER
from composition.demo.run import sign_in_line, web_login
from sandbox.telegram.server import TelegramEmulator


def test_the_demo_points_paygate_at_the_emulators_provider(tmp_path: Path) -> None:
    telegram = TelegramEmulator()
    telegram.add_user(OWNER, "Olivia", username="olivia")
    telegram.base_url = "http://127.0.0.1:9911"
    clock = DemoClock()
    clock.advance(timedelta(days=40))

    env = web_login(telegram, 8123, clock)

    client = telegram.oidc.clients[env["PAYGATE_OIDC_CLIENT_ID"]]
    assert client.secret == env["PAYGATE_OIDC_CLIENT_SECRET"]
    assert client.redirect_uris == {"http://127.0.0.1:8123/dashboard/oidc/callback"}
    assert telegram.oidc.signed_in == OWNER
    assert abs(telegram.oidc.now() - clock.now().timestamp()) < 5
    base = demo_environment(
        tmp_path / "d.db", telegram.base_url, telegram.token, "http://np", "k", "s", 8123
    )
    config = load_config(base | env, dotenv=tmp_path / "none.env")
    assert config.oidc.issuer == "http://127.0.0.1:9911"
    assert "http://127.0.0.1:8123/dashboard/signin" in sign_in_line(8123)
