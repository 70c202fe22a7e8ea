"""``POST /webhooks/{provider}``: payment notifications, where money enters.

Nothing is believed until verified and nothing verified is lost:

1. the raw body is read, capped (413 beyond the route's limit);
2. the provider's gateway checks the signature over those bytes before any business
   field is read: missing or bad is 401, logged and counted, with no state change;
   signed but unusable is 400 with the reason;
3. the verify-payment-intent use case stores the event and applies it in one
   transaction (with the others that arrived meanwhile: see ``ipn_batches``); only
   then is the answer 200. A database that is down or contended
   raises Unavailable, answered 503 by the error middleware, and the provider
   retries. A signed notification for an unknown order is 200: the use case recorded
   it and raised an alert, and retrying would not change that.

NowPayments waits 3 s for an answer. A notification not stored within
``ANSWER_WITHIN_SECONDS`` (a database that stopped answering, a queue of batches
behind one) is answered 503 then, not later: it stays in its batch and is stored if
the database answers after all, and the provider's resend finds it stored.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from adapters.inbound.http.body import read_body
from adapters.inbound.http.client_ip import client_ip_of
from adapters.inbound.http.errors import json_error
from adapters.inbound.http.ipn_batches import NotificationBatcher
from adapters.inbound.http.metrics import HttpMetrics
from core.ports.errors import Unavailable
from core.ports.payments import InvalidSignature, MalformedNotification, PaymentGateway

__all__ = ["PaymentWebhook"]

logger = logging.getLogger(__name__)

ANSWER_WITHIN_SECONDS = 2.5
"""Under NowPayments' 3 s, with room for the network and the signature check."""


class PaymentWebhook:
    def __init__(
        self,
        gateway: PaymentGateway,
        verify: NotificationBatcher,
        metrics: HttpMetrics,
        body_limit: int,
        answer_within: float = ANSWER_WITHIN_SECONDS,
    ) -> None:
        self._gateway = gateway
        self._verify = verify
        self._metrics = metrics
        self._limit = body_limit
        self._answer_within = answer_within

    async def handle(self, request: web.Request) -> web.Response:
        provider = self._gateway.name
        body = await read_body(request, self._limit)
        try:
            notification = self._gateway.verify_notification(body, request.headers)
        except InvalidSignature as exc:
            self._metrics.ipn.labels(provider, "invalid_signature").inc()
            client = client_ip_of(request)
            logger.warning(
                "refused %s notification from %s: %s",
                provider,
                client,
                exc,
                extra={"provider": provider, "client_ip": client, "ipn_result": "invalid"},
            )
            return json_error(401, "invalid signature")
        except MalformedNotification as exc:
            self._metrics.ipn.labels(provider, "malformed").inc()
            client = client_ip_of(request)
            logger.warning(
                "signed %s notification from %s is unusable: %s",
                provider,
                client,
                exc,
                extra={"provider": provider, "client_ip": client, "ipn_result": "malformed"},
            )
            return json_error(400, f"malformed notification: {exc}")
        try:
            async with asyncio.timeout(self._answer_within):
                result = await self._verify.apply(notification)
        except TimeoutError as exc:
            self._metrics.ipn.labels(provider, "unavailable").inc()
            raise Unavailable(
                f"the {provider} notification was not stored within {self._answer_within:g} s"
            ) from exc
        except Unavailable:
            self._metrics.ipn.labels(provider, "unavailable").inc()
            raise
        self._metrics.ipn.labels(provider, str(result.outcome)).inc()
        logger.info(
            "%s payment %s %s: %s",
            provider,
            notification.payment_id,
            notification.status,
            result.outcome,
            extra={
                "provider": provider,
                "payment_id": notification.payment_id,
                "order": notification.order_id,
                "intent": result.intent_id,
                "payment_status": str(notification.status),
                "outcome": str(result.outcome),
            },
        )
        return web.json_response({"outcome": str(result.outcome)})
