"""NowPayments as our PaymentGateway: hosted invoices, payment look-ups and IPNs.

Every HTTP call goes through a :class:`~adapters.outbound.breaker.CircuitBreaker` and a
timeout. The provider's answers are translated in one place (:meth:`_refusal`):

=====================  ==========================================  ===================
answer                 raised                                      breaker
=====================  ==========================================  ===================
404 on a look-up       NotFound                                    not a failure
401/403 on /v1/auth    ProviderRejected (wrong account login)      not a failure
429                    Unavailable with Retry-After as retry_after not a failure
other 4xx              ProviderRejected                            not a failure
5xx, timeout, network  Unavailable                                 failure
=====================  ==========================================  ===================

Listing an invoice's payments (reconciliation of an invoice no IPN ever reported)
needs more than the API key: a token from ``POST /v1/auth`` with the merchant
account's email and password, valid five minutes. Without that login configured the
call is NotConfigured; a token is reused until shortly before it expires, and a 401
on the list gets one fresh token before giving up.

The API key, the IPN secret, the account password and tokens never appear in a log
line or an exception message.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import attrs

from adapters.outbound.breaker import CircuitBreaker, mark_client_error
from adapters.outbound.nowpayments.canonical import InvalidJson, JsonNumber, JsonValue, parse
from adapters.outbound.nowpayments.ipn import PROVIDER, IpnVerifier, notification_from_payment
from core.domain.payment import ProviderNotification
from core.ports.errors import NotFound, PortError, Unavailable
from core.ports.payments import (
    Invoice,
    InvoiceRequest,
    MalformedNotification,
    NotConfigured,
    ProviderRejected,
)
from core.ports.security import Secret

__all__ = ["DEFAULT_BASE_URL", "NowPaymentsGateway", "NowPaymentsSettings"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.nowpayments.io"

_T = TypeVar("_T")
_PAYMENT_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
_MAX_MESSAGE = 200
_TOKEN_LIFETIME = 240.0
"""Seconds a token from /v1/auth is reused: NowPayments' last five minutes, and one
renewed a minute early never expires between being taken and being sent."""
_LIST_PAGE = 100
_LIST_PAGES = 10
"""Pages of one invoice's payments read at most: an invoice holds a payment and the
odd extra deposit, never a thousand."""


@attrs.frozen
class NowPaymentsSettings:
    """What the merchant account and our deployment decide; secrets stay wrapped."""

    api_key: Secret
    ipn_secret: Secret
    ipn_callback_url: str
    success_url: str | None = None
    cancel_url: str | None = None
    previous_ipn_secret: Secret | None = None
    """Still accepted on notifications while the IPN secret is being rotated."""
    is_fixed_rate: bool = False
    is_fee_paid_by_user: bool = False
    timeout: float = 10.0
    """Seconds for one HTTP call, answer included."""
    account_email: str | None = None
    account_password: Secret | None = None
    """The merchant account's login, only for listing an invoice's payments (the
    provider wants a token from /v1/auth for that call); None: not listed."""


class NowPaymentsGateway:
    """The PaymentGateway port over NowPayments' REST API. The caller owns the
    ``aiohttp.ClientSession`` (opened and closed by the composition root)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: NowPaymentsSettings,
        *,
        base_url: str = DEFAULT_BASE_URL,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock``: seconds, for when a token must be renewed (tests move it)."""
        if not settings.api_key.reveal():
            raise ValueError("the NowPayments API key must not be empty")
        self._session = session
        self._settings = settings
        self._base_url = base_url.rstrip("/")
        self._verifier = IpnVerifier(settings.ipn_secret, settings.previous_ipn_secret)
        if breaker is None:
            breaker = CircuitBreaker(PROVIDER, call_timeout=settings.timeout)
        self._breaker = breaker
        self._request_timeout = aiohttp.ClientTimeout(total=settings.timeout)
        self._clock = clock
        self._token: tuple[str, float] | None = None
        """The /v1/auth token and when to stop using it (``clock`` seconds)."""

    @property
    def breaker(self) -> CircuitBreaker:
        """The breaker every call to NowPayments goes through (its state is a metric)."""
        return self._breaker

    @property
    def name(self) -> str:
        return PROVIDER

    def rekey_ipn(self, secret: Secret, previous: Secret | None = None) -> None:
        """Verify notifications with ``secret`` (and ``previous``, during a rotation)
        from now on: the deployment's secrets were re-read. Built first, then swapped
        in one assignment, so a notification being verified uses one pair or the other."""
        self._verifier = IpnVerifier(secret, previous)

    async def create_invoice(self, request: InvoiceRequest) -> Invoice:
        if not request.price.is_positive:
            raise ProviderRejected("an invoice needs a positive price")
        if request.renews:
            raise ProviderRejected("NOWPayments invoices do not renew themselves")
        body = self._invoice_body(request)

        async def attempt() -> Invoice:
            status, headers, payload = await self._send("POST", "/v1/invoice", body)
            if status not in (200, 201):
                raise self._refusal(status, headers, payload, what="invoice")
            return _invoice_from(payload)

        invoice = await self._breaker.call(attempt)
        logger.info(
            "nowpayments invoice %s created for order %s", invoice.invoice_id, request.order_id
        )
        return invoice

    async def lookup_payment(self, payment_id: str) -> ProviderNotification:
        if _PAYMENT_ID.match(payment_id) is None:
            # Not an id the provider could have issued; never put it in a URL path.
            raise NotFound(f"no NowPayments payment {payment_id!r}")

        async def attempt() -> ProviderNotification:
            status, headers, payload = await self._send("GET", f"/v1/payment/{payment_id}")
            if status == 404:
                raise mark_client_error(NotFound(f"no NowPayments payment {payment_id}"))
            if status != 200:
                raise self._refusal(status, headers, payload, what="payment look-up")
            return _read(payload, notification_from_payment, f"payment {payment_id}")

        return await self._breaker.call(attempt)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotification:
        return self._verifier.verify(body, headers)

    async def payments_for_invoice(self, invoice_id: str) -> Sequence[ProviderNotification]:
        if _PAYMENT_ID.match(invoice_id) is None:
            raise ProviderRejected(f"{invoice_id!r} is not an invoice id NowPayments issues")
        found: list[ProviderNotification] = []
        for page in range(_LIST_PAGES):
            payments, pages = await self._payment_page(invoice_id, page)
            found.extend(payments)
            if page + 1 >= pages:
                break
        return found

    async def _payment_page(
        self, invoice_id: str, page: int
    ) -> tuple[list[ProviderNotification], int]:
        query = {
            "invoiceId": invoice_id,
            "limit": _LIST_PAGE,
            "page": page,
            "sortBy": "created_at",
            "orderBy": "asc",
        }
        path = f"/v1/payment/?{urlencode(query)}"

        async def attempt(token: str) -> tuple[list[ProviderNotification], int] | None:
            status, headers, payload = await self._send("GET", path, bearer=token)
            if status == 401:
                return None  # the token expired early or was revoked
            if status != 200:
                raise self._refusal(status, headers, payload, what="payment list")
            return _read(payload, _payments_from, "payment list")

        for renew in (False, True):
            token = await self._bearer(renew=renew)
            answer = await self._breaker.call(functools.partial(attempt, token))
            if answer is not None:
                return answer
        raise ProviderRejected("NowPayments refused a fresh token for the payment list (401)")

    async def _bearer(self, *, renew: bool) -> str:
        """A token from /v1/auth: the one in hand while it lasts, unless ``renew``."""
        if not renew and self._token is not None and self._clock() < self._token[1]:
            return self._token[0]
        email, password = self._settings.account_email, self._settings.account_password
        if not email or password is None or not password.reveal():
            raise NotConfigured(
                "listing NowPayments payments needs the account's email and password "
                "(PAYGATE_NOWPAYMENTS_EMAIL, PAYGATE_NOWPAYMENTS_PASSWORD)"
            )
        body = json.dumps({"email": email, "password": password.reveal()}).encode("utf-8")

        async def attempt() -> str:
            status, headers, payload = await self._send("POST", "/v1/auth", body)
            if status in (401, 403):
                self._provider_message(payload)  # read, redacted, never shown
                raise mark_client_error(
                    ProviderRejected(
                        f"NowPayments refused the account's email and password ({status})"
                    )
                )
            if status != 200:
                raise self._refusal(status, headers, payload, what="sign-in")
            return _token_from(payload)

        token = await self._breaker.call(attempt)
        self._token = (token, self._clock() + _TOKEN_LIFETIME)
        return token

    def _invoice_body(self, request: InvoiceRequest) -> bytes:
        settings = self._settings
        fields: dict[str, Any] = {
            "price_currency": request.price.currency.lower(),
            "order_id": request.order_id,
            "order_description": request.description,
            "ipn_callback_url": settings.ipn_callback_url,
            "is_fixed_rate": settings.is_fixed_rate,
            "is_fee_paid_by_user": settings.is_fee_paid_by_user,
        }
        if settings.success_url is not None:
            fields["success_url"] = settings.success_url
        if settings.cancel_url is not None:
            fields["cancel_url"] = settings.cancel_url
        # The amount goes out as a JSON number written from the Decimal's own digits:
        # through a float, 0.1 + 0.2 would become 0.30000000000000004.
        price = f'"price_amount":{request.price.amount:f}'
        rest = json.dumps(fields, separators=(",", ":"))[1:]
        return ("{" + price + "," + rest).encode("utf-8")

    async def _send(
        self, method: str, path: str, body: bytes | None = None, *, bearer: str | None = None
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = {"x-api-key": self._settings.api_key.reveal(), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            async with self._session.request(
                method,
                self._base_url + path,
                data=body,
                headers=headers,
                timeout=self._request_timeout,
                allow_redirects=False,
                # Statuses are translated here; a session configured to raise on
                # 4xx would otherwise turn a refusal into "unreachable".
                raise_for_status=False,
            ) as response:
                payload = await response.read()
                return response.status, response.headers, payload
        except aiohttp.ClientError as exc:
            # The exception's text can carry the URL but never our headers.
            raise Unavailable(f"NowPayments unreachable: {type(exc).__name__}") from exc

    def _refusal(
        self, status: int, headers: Mapping[str, str], payload: bytes, *, what: str
    ) -> PortError:
        message = self._provider_message(payload)
        logger.warning("nowpayments %s answered %s: %s", what, status, message)
        if status == 429:
            return mark_client_error(
                Unavailable(
                    f"NowPayments rate limit on {what}",
                    retry_after=_retry_after(headers.get("Retry-After")),
                )
            )
        if 400 <= status < 500:
            return mark_client_error(
                ProviderRejected(f"NowPayments refused the {what} ({status}): {message}")
            )
        return Unavailable(f"NowPayments {what} failed ({status})")

    def _provider_message(self, payload: bytes) -> str:
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        text = data.get("message") if isinstance(data, dict) else None
        if not isinstance(text, str):
            text = "no message"
        # A provider that echoes the request back must not leak a secret through us.
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text[:_MAX_MESSAGE]

    def _secrets(self) -> list[str]:
        password = self._settings.account_password
        secrets = [self._settings.api_key.reveal()]
        if password is not None and password.reveal():
            secrets.append(password.reveal())
        if self._token is not None:
            secrets.append(self._token[0])
        return secrets


def _invoice_from(payload: bytes) -> Invoice:
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    invoice_id = data.get("id") if isinstance(data, dict) else None
    url = data.get("invoice_url") if isinstance(data, dict) else None
    # The id is a string in the provider's examples and a number in some clients.
    id_ok = (
        isinstance(invoice_id, int | str) and not isinstance(invoice_id, bool) and invoice_id != ""
    )
    if id_ok and isinstance(url, str) and url.startswith(("https://", "http://")):
        return Invoice(invoice_id=str(invoice_id), url=url)
    raise Unavailable("NowPayments answered the invoice request without an invoice id and URL")


def _read(payload: bytes, read: Callable[[JsonValue], _T], what: str) -> _T:
    """``read`` of the provider's JSON answer."""
    try:
        return read(parse(payload))
    except (InvalidJson, MalformedNotification) as exc:
        # The provider is up but said something we cannot use: retrying later is all
        # a caller can do, and it is no reason to open the circuit.
        raise mark_client_error(Unavailable(f"unusable NowPayments {what}: {exc}")) from None


def _token_from(payload: bytes) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    token = data.get("token") if isinstance(data, dict) else None
    if isinstance(token, str) and token:
        return token
    raise Unavailable("NowPayments answered the sign-in without a token")


def _payments_from(document: JsonValue) -> tuple[list[ProviderNotification], int]:
    """The payments of one page of ``GET /v1/payment/`` and how many pages there are."""
    if not isinstance(document, dict):
        raise MalformedNotification("the payment list is not a JSON object")
    data = document.get("data")
    if not isinstance(data, list):
        raise MalformedNotification("data: not a list of payments")
    pages = document.get("pagesCount")
    count = pages.as_decimal() if isinstance(pages, JsonNumber) else None
    if count is None or count < 0 or count != count.to_integral_value():
        raise MalformedNotification("pagesCount: not a count of pages")
    return [notification_from_payment(item) for item in data], int(count)


def _retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "¹".isdigit() too, which float() refuses
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
