"""The login link ``paygate demo --keep-running`` prints opens the owner's dashboard."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from adapters.inbound.http.dashboard.telegram_login import verify_login
from composition.demo.clock import DemoClock
from composition.demo.people import OWNER
from composition.demo.run import dashboard_link
from sandbox.telegram.world import World


def test_the_printed_link_is_the_owners_signed_login_on_the_demos_clock() -> None:
    telegram = World()
    telegram.add_user(OWNER, "Olivia", username="olivia")
    clock = DemoClock()
    clock.advance(timedelta(days=40))  # the journey moves the demo's clock on

    line = dashboard_link(telegram, 8123, clock)

    url = line.split()[2]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:8123/dashboard/login"
    identity = verify_login(dict(parse_qsl(parts.query)), (telegram.token,), clock.now())
    assert identity.user_id == OWNER
