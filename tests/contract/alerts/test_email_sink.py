"""The email channel against a real SMTP conversation on 127.0.0.1: clear, STARTTLS
and implicit TLS with a verified certificate, login, and the server's refusals."""

from __future__ import annotations

import logging
import socket
import ssl

import pytest

from adapters.outbound.alerts import (
    AlertDeliveryFailed,
    EmailAlertSink,
    SmtpSecurity,
    SmtpSettings,
)
from adapters.outbound.memory.clock import FrozenClock
from core.ports.alerts import Alert, Severity
from core.ports.security import Secret
from tests.contract.alerts.smtp_server import FakeSmtpServer
from tests.contract.alerts.tls import LoopbackTls, loopback_tls

SENDER = "alerts@paygate.test"
OPS = ("ops@paygate.test", "oncall@paygate.test")
PASSWORD = "correct horse battery staple"

DEAD_LETTER = Alert(
    Severity.CRITICAL,
    "Payments are not being granted",
    key="outbox.dead_letter",
    details={"outbox_id": "ob42", "error": "Telegram answered 403 Forbidden"},
)


@pytest.fixture(scope="module")
def tls() -> LoopbackTls:
    return loopback_tls()


def settings(port: int, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": SENDER,
        "recipients": OPS,
        "security": SmtpSecurity.NONE,
        "timeout": 5.0,
        "helo_name": "paygate.test",
    }
    values.update(changes)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def sink(smtp: SmtpSettings, tls: LoopbackTls | None = None) -> EmailAlertSink:
    return EmailAlertSink(smtp, FrozenClock(), tls_context=None if tls is None else tls.client)


async def test_an_alert_arrives_as_a_plain_text_email_to_every_recipient() -> None:
    async with FakeSmtpServer() as server:
        await sink(settings(server.port)).deliver(DEAD_LETTER)

    [mail] = server.received
    assert mail.mail_from == SENDER
    assert mail.recipients == list(OPS)
    message = mail.message()
    assert message["Subject"] == (
        "[PayGate \N{POLICE CARS REVOLVING LIGHT} CRITICAL] Payments are not being granted"
    )
    assert message["From"] == SENDER
    assert message["To"] == "ops@paygate.test, oncall@paygate.test"
    assert message["Date"] == "Wed, 01 Jan 2025 00:00:00 +0000"
    assert message["Message-ID"].endswith("@paygate.test>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == (
        "\N{POLICE CARS REVOLVING LIGHT} CRITICAL: Payments are not being granted\n"
        "\n"
        "outbox_id: ob42\n"
        "error: Telegram answered 403 Forbidden\n"
        "alert key: outbox.dead_letter\n"
    )


async def test_with_starttls_the_login_and_the_message_travel_encrypted(tls: LoopbackTls) -> None:
    async with FakeSmtpServer(tls=tls.server, users={"paygate": PASSWORD}) as server:
        smtp = settings(
            server.port,
            security=SmtpSecurity.STARTTLS,
            username="paygate",
            password=Secret(PASSWORD),
        )
        await sink(smtp, tls).deliver(DEAD_LETTER)

    [mail] = server.received
    assert (mail.over_tls, mail.user) == (True, "paygate")
    assert server.auth_in_clear == 0


async def test_implicit_tls_sends_over_tls_from_the_first_byte(tls: LoopbackTls) -> None:
    async with FakeSmtpServer(tls=tls.server, implicit_tls=True) as server:
        await sink(settings(server.port, security=SmtpSecurity.TLS), tls).deliver(DEAD_LETTER)

    [mail] = server.received
    assert mail.over_tls is True


async def test_a_server_without_starttls_gets_neither_credentials_nor_the_message(
    tls: LoopbackTls,
) -> None:
    async with FakeSmtpServer(
        tls=tls.server, offer_starttls=False, users={"paygate": PASSWORD}
    ) as server:
        smtp = settings(
            server.port,
            security=SmtpSecurity.STARTTLS,
            username="paygate",
            password=Secret(PASSWORD),
        )
        with pytest.raises(AlertDeliveryFailed, match="SMTPNotSupportedError"):
            await sink(smtp, tls).deliver(DEAD_LETTER)

    assert server.received == []
    assert server.auth_in_clear == 0


async def test_a_certificate_we_do_not_trust_fails_the_delivery(tls: LoopbackTls) -> None:
    async with FakeSmtpServer(tls=tls.server) as server:
        # The system's authorities do not know the test CA.
        untrusting = EmailAlertSink(
            settings(server.port, security=SmtpSecurity.STARTTLS),
            FrozenClock(),
            tls_context=ssl.create_default_context(),
        )
        with pytest.raises(AlertDeliveryFailed, match="SSLCertVerificationError"):
            await untrusting.deliver(DEAD_LETTER)

    assert server.received == []


async def test_a_wrong_password_fails_with_the_servers_code_and_never_logs_the_password(
    tls: LoopbackTls, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeSmtpServer(tls=tls.server, users={"paygate": PASSWORD}) as server:
        smtp = settings(
            server.port,
            security=SmtpSecurity.STARTTLS,
            username="paygate",
            password=Secret("wrong password"),
        )
        email_sink = sink(smtp, tls)
        with pytest.raises(AlertDeliveryFailed) as caught:
            await email_sink.deliver(DEAD_LETTER)
        with caplog.at_level(logging.DEBUG):
            await email_sink.send(DEAD_LETTER)

    assert str(caught.value) == ("email: the SMTP server answered 535 (SMTPAuthenticationError)")
    assert server.failed_logins == 2
    assert "wrong password" not in caplog.text
    assert "email: the SMTP server answered 535" in caplog.text


async def test_a_temporary_refusal_is_a_failed_delivery() -> None:
    async with FakeSmtpServer(mail_reply="451 try again later") as server:
        with pytest.raises(AlertDeliveryFailed, match="answered 451"):
            await sink(settings(server.port)).deliver(DEAD_LETTER)

    assert server.received == []


async def test_some_refused_recipients_still_deliver_to_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeSmtpServer(refused_recipients=frozenset({"oncall@paygate.test"})) as server:
        with caplog.at_level(logging.WARNING, logger="paygate.alerts"):
            await sink(settings(server.port)).deliver(DEAD_LETTER)

    assert [mail.recipients for mail in server.received] == [["ops@paygate.test"]]
    assert [r.getMessage() for r in caplog.records] == [
        "alert channel email: the SMTP server refused 1 of 2 recipients: oncall@paygate.test"
    ]


async def test_every_recipient_refused_is_a_failed_delivery() -> None:
    async with FakeSmtpServer(refused_recipients=frozenset(OPS)) as server:
        with pytest.raises(AlertDeliveryFailed, match=r"refused every recipient \(codes \[550\]\)"):
            await sink(settings(server.port)).deliver(DEAD_LETTER)

    assert server.received == []


async def test_no_server_listening_is_a_failed_delivery_and_send_does_not_raise() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    email_sink = sink(settings(closed_port))

    with pytest.raises(AlertDeliveryFailed, match="ConnectionRefusedError"):
        await email_sink.deliver(DEAD_LETTER)
    await email_sink.send(DEAD_LETTER)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recipients": ()}, "at least one recipient"),
        ({"recipients": ("not-an-address",)}, "not an email address"),
        ({"sender": "alerts"}, "not an email address"),
        ({"username": "paygate"}, "go together"),
        ({"username": "u", "password": Secret("p")}, "need security"),
        ({"timeout": 0.0}, "must be positive"),
    ],
)
def test_settings_refuse_what_cannot_work_or_would_leak(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        settings(25, **changes)


@pytest.mark.parametrize("port", [0, 65536])
def test_settings_refuse_a_port_outside_the_tcp_range(port: int) -> None:
    with pytest.raises(ValueError, match="'port' must be"):
        settings(port)


def test_the_password_never_shows_in_the_settings_repr() -> None:
    smtp = settings(
        587, security=SmtpSecurity.STARTTLS, username="paygate", password=Secret(PASSWORD)
    )

    assert PASSWORD not in repr(smtp)
