"""Alert channels (log, Telegram admin chat, email, signed webhook) and the
AlertService that fans an alert out to them behind circuit breakers and a repeat
window. Each channel alone is an AlertSink too."""

from adapters.outbound.alerts.channel import AlertChannel, AlertDeliveryFailed
from adapters.outbound.alerts.email_sink import EmailAlertSink, SmtpSecurity, SmtpSettings
from adapters.outbound.alerts.log_sink import LogAlertSink
from adapters.outbound.alerts.service import AlertRoute, AlertService, BreakerSettings
from adapters.outbound.alerts.telegram_sink import TelegramAlertSink
from adapters.outbound.alerts.webhook_sink import (
    WebhookAlertSink,
    WebhookSecret,
    sign_standard_webhook,
)

__all__ = [
    "AlertChannel",
    "AlertDeliveryFailed",
    "AlertRoute",
    "AlertService",
    "BreakerSettings",
    "EmailAlertSink",
    "LogAlertSink",
    "SmtpSecurity",
    "SmtpSettings",
    "TelegramAlertSink",
    "WebhookAlertSink",
    "WebhookSecret",
    "sign_standard_webhook",
]
