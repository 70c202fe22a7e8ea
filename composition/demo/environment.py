"""Where the demo's PayGate runs: its configuration, pointed at the emulators, and a
free port to serve on."""

from __future__ import annotations

import base64
import secrets
import socket
from pathlib import Path

from adapters.outbound.crypto.fernet_cipher import generate_key

_EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A free loopback port for a server started later, taken below the kernel's range
    of ephemeral ports: a port handed out meanwhile for a ``bind(0)`` or a client's
    connection (an emulator starting, a test's own servers) can never be this one."""
    try:
        lowest_ephemeral = int(_EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        lowest_ephemeral = 32768  # Linux's default (macOS: 49152)
    for _ in range(100):
        port = 10_000 + secrets.randbelow(max(1, lowest_ephemeral - 10_000))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded machine: any free port
        s.bind(("127.0.0.1", 0))
        chosen: int = s.getsockname()[1]
        return chosen


def demo_environment(
    db: Path,
    telegram_url: str,
    token: str,
    np_url: str,
    np_key: str,
    np_secret: str,
    port: int,
    np_login: tuple[str, str] | None = None,
) -> dict[str, str]:
    """``np_login``: the emulated merchant account's email and password, with which
    reconciliation lists the payments of an invoice no IPN ever reported."""
    login = {}
    if np_login is not None:
        login = {
            "PAYGATE_NOWPAYMENTS_EMAIL": np_login[0],
            "PAYGATE_NOWPAYMENTS_PASSWORD": np_login[1],
        }
    return login | {
        "PAYGATE_ENV": "development",
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "PAYGATE_HTTP_HOST": "127.0.0.1",
        "PAYGATE_HTTP_PORT": str(port),
        "PAYGATE_TELEGRAM_BOT_TOKEN": token,
        "PAYGATE_TELEGRAM_API_URL": telegram_url,
        "PAYGATE_NOWPAYMENTS_API_URL": np_url,
        "PAYGATE_NOWPAYMENTS_API_KEY": np_key,
        "PAYGATE_NOWPAYMENTS_IPN_SECRET": np_secret,
        "PAYGATE_ENCRYPTION_KEYS": generate_key(),
        "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PAYGATE_DISPATCH_EVERY_SECONDS": "0.1",
        "PAYGATE_SWEEP_EVERY_SECONDS": "0.2",
        "PAYGATE_BROADCAST_EVERY_SECONDS": "0.3",
        "PAYGATE_RECONCILE_EVERY_SECONDS": "2",
        "PAYGATE_TELEGRAM_STARS": "on",
    }
