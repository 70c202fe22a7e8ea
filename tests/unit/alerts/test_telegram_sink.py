"""The Telegram channel: a plain-text message in the admin chat through the Messenger
port (here the in-memory Messenger, which behaves as the Bot API adapter does)."""

from __future__ import annotations

import logging

import pytest

from adapters.outbound.alerts import AlertDeliveryFailed, TelegramAlertSink
from adapters.outbound.memory import InMemoryMessenger
from core.domain.ids import ChatId
from core.ports.alerts import Alert, Severity

ADMIN_CHAT = ChatId(-1002000000001)

STUCK = Alert(
    Severity.CRITICAL,
    "Payments are not being granted",
    key="outbox.dead_letter",
    details={"outbox_id": "ob42", "tries": "8"},
)


async def test_an_alert_reads_as_marker_title_details_and_key() -> None:
    messenger = InMemoryMessenger()
    sink = TelegramAlertSink(messenger, ADMIN_CHAT)

    await sink.send(STUCK)

    [posted] = messenger.visible(ADMIN_CHAT)
    assert posted.message.text == (
        "\N{POLICE CARS REVOLVING LIGHT} CRITICAL: Payments are not being granted\n"
        "\n"
        "outbox_id: ob42\n"
        "tries: 8\n"
        "alert key: outbox.dead_letter"
    )
    assert posted.message.buttons == ()


@pytest.mark.parametrize(
    ("severity", "marker"),
    [
        (Severity.INFO, "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16} INFO: "),
        (Severity.WARNING, "\N{WARNING SIGN}\N{VARIATION SELECTOR-16} WARNING: "),
    ],
)
async def test_each_severity_has_its_marker(severity: Severity, marker: str) -> None:
    messenger = InMemoryMessenger()
    sink = TelegramAlertSink(messenger, ADMIN_CHAT)

    await sink.send(Alert(severity, "Broadcast posted", key="broadcast"))

    assert messenger.sent[0].message.text.startswith(marker + "Broadcast posted\n")


async def test_long_details_are_cut_so_the_message_stays_within_telegrams_limit() -> None:
    messenger = InMemoryMessenger()
    sink = TelegramAlertSink(messenger, ADMIN_CHAT, value_limit=50)
    many = {f"field{n:02d}": "y" * 200 for n in range(40)}

    await sink.send(Alert(Severity.WARNING, "Noisy", key="noisy", details={"trace": "z" * 300}))
    await sink.send(Alert(Severity.WARNING, "Very noisy", key="noisier", details=many))

    short, cut = (posted.message.text for posted in messenger.sent)
    assert "trace: " + "z" * 50 + "\N{HORIZONTAL ELLIPSIS} (250 more characters)" in short
    assert len(cut) <= 4096
    assert cut.startswith("\N{WARNING SIGN}\N{VARIATION SELECTOR-16} WARNING: Very noisy\n")


async def test_a_failed_message_raises_from_deliver_but_never_from_send(
    caplog: pytest.LogCaptureFixture,
) -> None:
    messenger = InMemoryMessenger()
    sink = TelegramAlertSink(messenger, ADMIN_CHAT, name="admin-chat")
    messenger.fail_next(2, retry_after=7)

    with pytest.raises(AlertDeliveryFailed) as caught:
        await sink.deliver(STUCK)
    with caplog.at_level(logging.WARNING, logger="paygate.alerts"):
        await sink.send(STUCK)

    assert caught.value.retry_after == 7
    assert str(caught.value) == (
        "admin-chat: the message to the admin chat failed (Unavailable: flood control)"
    )
    assert [r.getMessage() for r in caplog.records] == [
        "alert channel admin-chat could not deliver alert outbox.dead_letter: "
        "AlertDeliveryFailed: admin-chat: the message to the admin chat failed"
        " (Unavailable: flood control)"
    ]
    assert messenger.sent == []


async def test_an_admin_chat_the_bot_left_is_a_delivery_failure() -> None:
    messenger = InMemoryMessenger()
    messenger.forget_chat(ADMIN_CHAT)
    sink = TelegramAlertSink(messenger, ADMIN_CHAT)

    with pytest.raises(AlertDeliveryFailed, match="ChatGone"):
        await sink.deliver(STUCK)
