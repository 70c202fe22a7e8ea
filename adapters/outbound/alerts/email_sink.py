"""Alerts by email, over SMTP with the standard library's smtplib in a thread.

smtplib rather than aiosmtplib: one short session per alert does not need an async
client, and a thread keeps the event loop free while the server answers. The thread
is bounded by the socket timeout in :class:`SmtpSettings`, which should be shorter
than the circuit breaker's call timeout so an abandoned thread ends soon after.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from enum import StrEnum

import attrs

from adapters.outbound.alerts.channel import AlertDeliveryFailed, BestEffortChannel
from adapters.outbound.alerts.rendering import plain_text, severity_marker
from core.ports.alerts import Alert
from core.ports.clock import Clock
from core.ports.security import Secret

__all__ = ["EmailAlertSink", "SmtpSecurity", "SmtpSettings"]

logger = logging.getLogger("paygate.alerts")

DEFAULT_VALUE_LIMIT = 2000
_ADDRESS = re.compile(r"\A[^@\s<>,;]+@[^@\s<>,;]+\Z")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    """Plain connection upgraded with STARTTLS before anything else is said (port 587)."""
    TLS = "tls"
    """TLS from the first byte (SMTPS, port 465)."""
    NONE = "none"
    """No encryption: only for a relay on the same host or a test server."""


def _check_address(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _ADDRESS.match(value):
        raise ValueError(f"{attribute.name} is not an email address: {value!r}")


def _check_recipients(
    _: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    if not value:
        raise ValueError("an email alert needs at least one recipient")
    for address in value:
        if not _ADDRESS.match(address):
            raise ValueError(
                f"{attribute.name} holds a value that is not an email address: {address!r}"
            )


def _as_tuple(addresses: Iterable[str]) -> tuple[str, ...]:
    return tuple(addresses)


@attrs.frozen
class SmtpSettings:
    """Where and how to send alert emails. A username needs a password and an
    encrypted connection: credentials are never sent in clear text."""

    host: str
    port: int = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(1), attrs.validators.le(65535))
    )
    sender: str = attrs.field(validator=_check_address)
    recipients: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_recipients)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: Secret | None = None
    timeout: float = 10.0
    """Seconds for connecting and for each server reply."""
    helo_name: str | None = None
    """The name we give in EHLO; None lets smtplib use this host's fully qualified name."""

    def __attrs_post_init__(self) -> None:
        if not self.host:
            raise ValueError("the SMTP host is empty")
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password go together")
        if self.username is not None and self.security is SmtpSecurity.NONE:
            raise ValueError("SMTP credentials need security 'starttls' or 'tls'")
        if self.timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")


class EmailAlertSink(BestEffortChannel):
    """Implements AlertSink (and AlertChannel). One plain-text email per alert to all
    recipients; the subject carries the severity and the title so a mail filter can
    sort them.

    ``tls_context`` verifies the server's certificate; the default one trusts the
    system's authorities. A server that refuses some recipients but accepts others
    has delivered (the refused ones are logged); refusing all of them is a failure."""

    def __init__(
        self,
        settings: SmtpSettings,
        clock: Clock,
        *,
        name: str = "email",
        tls_context: ssl.SSLContext | None = None,
        value_limit: int = DEFAULT_VALUE_LIMIT,
    ) -> None:
        if value_limit < 1:
            raise ValueError("value_limit is at least one character")
        self._settings = settings
        self._clock = clock
        self._name = name
        self._tls_context = tls_context if tls_context is not None else ssl.create_default_context()
        self._value_limit = value_limit

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, alert: Alert) -> None:
        message = self._compose(alert)
        try:
            refused = await asyncio.to_thread(self._transmit, message)
        except smtplib.SMTPResponseException as exc:
            raise AlertDeliveryFailed(
                f"{self._name}: the SMTP server answered {exc.smtp_code} ({type(exc).__name__})"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise AlertDeliveryFailed(
                f"{self._name}: the SMTP server refused every recipient (codes {codes})"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # OSError covers refused connections, timeouts and TLS handshake failures.
            raise AlertDeliveryFailed(f"{self._name}: SMTP failed ({type(exc).__name__})") from exc
        if refused:
            logger.warning(
                "alert channel %s: the SMTP server refused %d of %d recipients: %s",
                self._name,
                len(refused),
                len(self._settings.recipients),
                ", ".join(sorted(refused)),
            )

    def _compose(self, alert: Alert) -> EmailMessage:
        settings = self._settings
        message = EmailMessage()
        # Header values may not contain line breaks; a title is one line anyway.
        subject = " ".join(f"[PayGate {severity_marker(alert.severity)}] {alert.title}".split())
        message["Subject"] = subject
        message["From"] = settings.sender
        message["To"] = ", ".join(settings.recipients)
        message["Date"] = email.utils.format_datetime(self._clock.now())
        # The domain is given so make_msgid does not look this host's name up in DNS.
        message["Message-ID"] = email.utils.make_msgid(
            "alert", domain=settings.sender.rpartition("@")[2]
        )
        message.set_content(plain_text(alert, value_limit=self._value_limit))
        return message

    def _transmit(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """Runs in a worker thread: one SMTP session, closed whatever happens."""
        settings = self._settings
        client: smtplib.SMTP
        if settings.security is SmtpSecurity.TLS:
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=settings.helo_name,
                timeout=settings.timeout,
                context=self._tls_context,
            )
        else:
            client = smtplib.SMTP(
                settings.host,
                settings.port,
                local_hostname=settings.helo_name,
                timeout=settings.timeout,
            )
        with client:
            client.ehlo()
            if settings.security is SmtpSecurity.STARTTLS:
                # starttls raises SMTPNotSupportedError when the server does not offer
                # it: we never fall back to sending in clear text.
                client.starttls(context=self._tls_context)
                client.ehlo()
            if settings.username is not None and settings.password is not None:
                client.login(settings.username, settings.password.reveal())
            return client.send_message(
                message, from_addr=settings.sender, to_addrs=list(settings.recipients)
            )
