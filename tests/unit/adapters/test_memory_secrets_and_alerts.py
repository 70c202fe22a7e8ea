"""The in-memory secret store and alert sink."""

from __future__ import annotations

import pytest

from adapters.outbound.memory import InMemoryAlertSink, InMemorySecretStore
from core.ports.alerts import Alert, Severity
from core.ports.errors import NotFound
from core.ports.security import Secret


async def test_secrets_are_returned_wrapped_and_can_be_rotated() -> None:
    store = InMemorySecretStore({"bot_token": "123:abc", "ipn": Secret("s1")})

    assert (await store.get("bot_token")).reveal() == "123:abc"
    store.set("ipn", "s2")
    assert (await store.get("ipn")).reveal() == "s2"


async def test_a_missing_secret_is_not_found_and_named_without_values() -> None:
    store = InMemorySecretStore({"bot_token": "123:abc"})

    with pytest.raises(NotFound) as caught:
        await store.get("ipn_secret")

    assert "ipn_secret" in str(caught.value)
    assert "123:abc" not in str(caught.value)


async def test_every_alert_is_kept_in_order() -> None:
    sink = InMemoryAlertSink()
    first = Alert(Severity.WARNING, "Telegram is slow", key="telegram.slow")
    second = Alert(Severity.CRITICAL, "Bot lost rights", key="rights:ch1", details={"chat": "1"})

    await sink.send(first)
    await sink.send(second)
    await sink.send(first)

    assert sink.alerts == [first, second, first]
