"""The AlertService with its real channels: a webhook receiver and an SMTP server on
127.0.0.1, the admin chat through the in-memory Messenger, and the log. A receiver
that keeps failing opens its breaker, the admin chat and the mailbox hear about it,
and they hear again when it recovers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from adapters.outbound.alerts import (
    AlertRoute,
    AlertService,
    BreakerSettings,
    EmailAlertSink,
    LogAlertSink,
    SmtpSecurity,
    SmtpSettings,
    TelegramAlertSink,
    WebhookAlertSink,
    WebhookSecret,
)
from adapters.outbound.memory import InMemoryMessenger
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.ids import SequentialIdGenerator
from core.domain.ids import ChatId
from core.ports.alerts import Alert, Severity
from tests.contract.alerts.smtp_server import FakeSmtpServer
from tests.contract.alerts.webhook_receiver import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ADMIN_CHAT = ChatId(-1002000000001)
FAILING = "Alert channel webhook is failing; it is paused and retried in 5 min"
RECOVERED = "Alert channel webhook delivers again"


def stuck(n: int) -> Alert:
    return Alert(Severity.CRITICAL, f"Payment {n} stuck", key=f"payment.stuck.{n}")


class Rig:
    def __init__(
        self,
        clock: FrozenClock,
        receiver: WebhookReceiver,
        smtp: FakeSmtpServer,
        messenger: InMemoryMessenger,
        service: AlertService,
    ) -> None:
        self.clock = clock
        self.receiver = receiver
        self.smtp = smtp
        self.messenger = messenger
        self.service = service

    def chat_titles(self) -> list[str]:
        # The first line of each message is "<marker> <SEVERITY>: <title>".
        return [
            posted.message.text.split("\n", 1)[0].split(": ", 1)[1]
            for posted in self.messenger.sent
        ]

    def mail_subjects(self) -> list[str]:
        return [str(mail.message()["Subject"]) for mail in self.smtp.received]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FrozenClock()
    messenger = InMemoryMessenger()
    async with (
        WebhookReceiver(SECRET, clock.now) as receiver,
        FakeSmtpServer() as smtp,
        aiohttp.ClientSession() as session,
    ):
        mail = SmtpSettings(
            host="127.0.0.1",
            port=smtp.port,
            sender="alerts@paygate.test",
            recipients=("ops@paygate.test",),
            security=SmtpSecurity.NONE,
            timeout=5.0,
            helo_name="paygate.test",
        )
        service = AlertService(
            [
                AlertRoute(LogAlertSink()),
                AlertRoute(TelegramAlertSink(messenger, ADMIN_CHAT)),
                AlertRoute(EmailAlertSink(mail, clock), Severity.WARNING),
                AlertRoute(
                    WebhookAlertSink(
                        session,
                        receiver.url(),
                        WebhookSecret.parse(SECRET),
                        clock,
                        SequentialIdGenerator("al"),
                        timeout=5.0,
                    )
                ),
            ],
            clock,
            breaker=BreakerSettings(
                failure_threshold=3,
                reset_timeout=timedelta(minutes=5),
                call_timeout=timedelta(seconds=10),
            ),
        )
        yield Rig(clock, receiver, smtp, messenger, service)


async def test_every_channel_gets_the_alert_over_its_own_wire(rig: Rig) -> None:
    await rig.service.send(stuck(1))

    assert rig.chat_titles() == ["Payment 1 stuck"]
    assert rig.mail_subjects() == [
        "[PayGate \N{POLICE CARS REVOLVING LIGHT} CRITICAL] Payment 1 stuck"
    ]
    assert [(d.verdict, d.payload()["data"]["title"]) for d in rig.receiver.deliveries] == [
        ("valid", "Payment 1 stuck")
    ]


async def test_a_failing_webhook_opens_its_breaker_and_the_chat_and_mailbox_are_told(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.receiver.status = 500

    with caplog.at_level(logging.INFO, logger="paygate.alerts"):
        for n in range(1, 6):
            await rig.service.send(stuck(n))

    assert len(rig.receiver.deliveries) == 3
    expected = ["Payment 1 stuck", "Payment 2 stuck", "Payment 3 stuck", FAILING]
    expected += ["Payment 4 stuck", "Payment 5 stuck"]
    assert rig.chat_titles() == expected
    assert (
        rig.mail_subjects()[3]
        == f"[PayGate \N{WARNING SIGN}\N{VARIATION SELECTOR-16} WARNING] {FAILING}"
    )
    logged = [r.getMessage() for r in caplog.records if r.name == "paygate.alerts"]
    announced = f"alert alerts.channel.webhook.open [warning] {FAILING}"
    assert f"{announced} channel=webhook state=open retry_in=5 min" in logged


async def test_a_webhook_that_recovers_gets_the_next_alert_and_its_recovery_is_announced(
    rig: Rig,
) -> None:
    rig.receiver.status = 500
    for n in range(1, 4):
        await rig.service.send(stuck(n))

    rig.receiver.status = 204
    rig.clock.advance(timedelta(minutes=5))
    await rig.service.send(stuck(4))

    assert [d.payload()["data"]["title"] for d in rig.receiver.deliveries][-1] == "Payment 4 stuck"
    assert rig.chat_titles()[-2:] == ["Payment 4 stuck", RECOVERED]
    # The recovery is INFO: below the mailbox's minimum (WARNING).
    assert RECOVERED not in " ".join(rig.mail_subjects())
