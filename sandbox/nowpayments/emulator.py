"""A local NowPayments: a real HTTP server our real adapter talks to in tests and the
demo. Never imported by core or adapters.

Provider API (``x-api-key`` checked, except by /v1/auth as at the provider):
    POST /v1/auth                    the account's email and password buy a bearer token
    POST /v1/invoice                 create a hosted invoice
    GET  /v1/payment/{payment_id}    a payment's current state
    GET  /v1/payment/                list payments (needs a bearer token as well)

Hosted pay page (what ``invoice_url`` points at):
    GET  /payment/?iid={invoice_id}  a page with "pay" buttons
    POST /payment/pay                the buttons' form

Control API for tests and the demo (no key: the emulator listens on loopback):
    POST /_emulator/invoices/{invoice_id}/pay   pay per a PayPlan, send the IPNs
    POST /_emulator/faults                      make the next API calls fail or stall
    GET  /_emulator/calls                       every API call received
    GET  /_emulator/deliveries                  every IPN sent, with its answer

Paying sends one IPN per status to the invoice's ``ipn_callback_url``, signed like the
provider (see :mod:`sandbox.nowpayments.js_form`), optionally dropped, duplicated or
reordered to rehearse at-least-once, out-of-order delivery.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs
from aiohttp import web

from sandbox.nowpayments.js_form import js_json, sign

__all__ = [
    "DEFAULT_RATES",
    "EmulatedInvoice",
    "EmulatedPayment",
    "Fault",
    "IpnDelivery",
    "NowPaymentsEmulator",
    "PayPlan",
    "RecordedCall",
]

logger = logging.getLogger(__name__)

DEFAULT_RATES: Mapping[str, Decimal] = MappingProxyType(
    {
        # Units of the coin per unit of the invoice's price currency; any fiat alike.
        "btc": Decimal("0.0000161"),
        "eth": Decimal("0.00031"),
        "ltc": Decimal("0.0125"),
        "trx": Decimal("8.1"),
        "usdttrc20": Decimal("1"),
        "xmr": Decimal("0.0061"),
    }
)
PRICE_CURRENCIES = frozenset(
    {"usd", "eur", "gbp", "chf", "cad", "aud", "jpy", "uah", "btc", "eth", "usdttrc20"}
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SERVICE_FEE = Decimal("0.005")
_EIGHT_PLACES = Decimal("0.00000001")
_URL_FIELDS = ("ipn_callback_url", "success_url", "cancel_url", "partially_paid_url")
_AUTH_PATH = "/v1/auth"
_MASKED = "***"
_MAX_PAGE_SIZE = 500


@attrs.frozen
class Fault:
    """The next ``times`` API calls wait ``delay`` seconds, then answer ``status``
    (or normally, when ``status`` is None)."""

    status: int | None = 503
    times: int = 1
    delay: float = 0.0
    retry_after: str | None = None
    message: str = "Service temporarily unavailable"


@attrs.frozen
class PayPlan:
    """How a simulated payer pays an invoice and how the provider reports it.

    ``statuses`` is the payment's life at the provider; its last entry is what a
    look-up returns. IPNs follow it unless ``drop`` (statuses never notified),
    ``duplicate`` (statuses notified twice in a row) or ``order`` (a permutation of
    the indices of ``statuses``) say otherwise. ``actually_paid`` below
    ``pay_amount`` is an underpayment.
    """

    pay_currency: str = "btc"
    pay_amount: Decimal | None = None
    actually_paid: Decimal | None = None
    statuses: tuple[str, ...] = ("waiting", "confirming", "confirmed", "finished")
    drop: frozenset[str] = frozenset()
    duplicate: frozenset[str] = frozenset()
    order: tuple[int, ...] | None = None
    parent_payment_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.statuses or not all(s and s.replace("_", "").isalpha() for s in self.statuses):
            raise ValueError("statuses must be a non-empty list of status names")
        if self.order is not None and sorted(self.order) != list(range(len(self.statuses))):
            raise ValueError("order must be a permutation of the statuses' indices")
        for amount in (self.pay_amount, self.actually_paid):
            if amount is not None and (not amount.is_finite() or amount < 0):
                raise ValueError("amounts must be finite and not negative")


@attrs.frozen
class RecordedCall:
    method: str
    path: str
    status: int
    api_key_ok: bool
    body: bytes


@attrs.frozen
class IpnDelivery:
    payment_id: int
    status: str
    url: str
    body: bytes
    signature: str
    attempt: int
    response_status: int | None
    error: str | None


@attrs.define
class EmulatedInvoice:
    id: str
    price_amount: Decimal
    price_currency: str
    order_id: str | None
    order_description: str | None
    pay_currency: str | None
    ipn_callback_url: str | None
    success_url: str | None
    cancel_url: str | None
    is_fixed_rate: bool
    is_fee_paid_by_user: bool
    created_at: datetime


@attrs.define
class EmulatedPayment:
    payment_id: int
    invoice: EmulatedInvoice
    pay_currency: str
    pay_amount: Decimal
    actually_paid: Decimal
    pay_address: str
    purchase_id: str
    status: str
    parent_payment_id: int | None
    created_at: datetime
    updated_at: datetime
    deliveries: list[IpnDelivery] = attrs.Factory(list)


_SORT_KEYS: Mapping[str, Callable[[EmulatedPayment], tuple[object, ...]]] = MappingProxyType(
    {
        # The id breaks ties, so that a descending list is the ascending one reversed.
        "created_at": lambda p: (p.created_at, p.payment_id),
        "updated_at": lambda p: (p.updated_at, p.payment_id),
        "payment_id": lambda p: (p.payment_id,),
    }
)


@attrs.frozen
class _ListQuery:
    """What ``GET /v1/payment/`` was asked for, checked."""

    invoice_id: str | None
    limit: int
    page: int
    sort_by: str
    descending: bool
    date_from: datetime | None
    date_to: datetime | None


class NowPaymentsEmulator:
    def __init__(
        self,
        *,
        api_key: str,
        ipn_secret: str,
        rates: Mapping[str, Decimal] = DEFAULT_RATES,
        ipn_retries: int = 0,
        ipn_retry_delay: float = 0.0,
        ipn_timeout: float = 3.0,
        allowed_ipn_hosts: frozenset[str] = LOOPBACK_HOSTS,
        first_id: int = 5_077_125_051,
        account_email: str | None = None,
        account_password: str | None = None,
        token_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``account_email`` and ``account_password`` are what ``POST /v1/auth`` accepts
        (either None: it refuses everyone); its tokens live ``token_ttl`` seconds of
        ``clock``, a monotonic clock that tests replace to expire tokens unslept."""
        self._api_key = api_key
        self._account = (
            None
            if account_email is None or account_password is None
            else (account_email.encode(), account_password.encode())
        )
        self._token_ttl = token_ttl
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._ipn_secret = ipn_secret
        self._rates = dict(rates)
        self._ipn_retries = ipn_retries
        self._ipn_retry_delay = ipn_retry_delay
        self._ipn_timeout = ipn_timeout
        self._allowed_ipn_hosts = allowed_ipn_hosts
        self._ids = itertools.count(first_id)
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._base_url: str | None = None
        self.invoices: dict[str, EmulatedInvoice] = {}
        self.payments: dict[str, EmulatedPayment] = {}
        self.calls: list[RecordedCall] = []
        self.deliveries: list[IpnDelivery] = []

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the emulator is not running")
        return self._base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (port 0: any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application()
        app.router.add_post(_AUTH_PATH, self._auth)
        app.router.add_post("/v1/invoice", self._create_invoice)
        app.router.add_get("/v1/payment/", self._list_payments)
        app.router.add_get("/v1/payment/{payment_id}", self._get_payment)
        app.router.add_get("/payment/", self._pay_page)
        app.router.add_post("/payment/pay", self._pay_form)
        app.router.add_post("/_emulator/invoices/{invoice_id}/pay", self._control_pay)
        app.router.add_post("/_emulator/faults", self._control_fault)
        app.router.add_get("/_emulator/calls", self._control_calls)
        app.router.add_get("/_emulator/deliveries", self._control_deliveries)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._ipn_timeout))
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}"
        logger.info("NowPayments emulator listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._base_url = None

    async def __aenter__(self) -> NowPaymentsEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------ test controls

    def inject_fault(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    async def pay(self, invoice_id: str, plan: PayPlan | None = None) -> EmulatedPayment:
        """Pay ``invoice_id`` as ``plan`` says and deliver its IPNs; returns the payment
        with the deliveries made. Raises KeyError (unknown invoice) or ValueError."""
        plan = plan or PayPlan()
        invoice = self.invoices[invoice_id]
        pay_currency = plan.pay_currency.lower()
        pay_amount = plan.pay_amount
        if pay_amount is None:
            rate = self._rates.get(pay_currency)
            if rate is None:
                raise ValueError(f"no rate for {pay_currency!r}; give pay_amount")
            pay_amount = (invoice.price_amount * rate).quantize(_EIGHT_PLACES)
        actually_paid = pay_amount if plan.actually_paid is None else plan.actually_paid
        now = datetime.now(UTC)
        payment_id = next(self._ids)
        payment = EmulatedPayment(
            payment_id=payment_id,
            invoice=invoice,
            pay_currency=pay_currency,
            pay_amount=pay_amount,
            actually_paid=actually_paid,
            pay_address=f"emu{pay_currency}{payment_id:x}",
            purchase_id=str(next(self._ids)),
            status=plan.statuses[-1],
            parent_payment_id=plan.parent_payment_id,
            created_at=now,
            updated_at=now,
        )
        self.payments[str(payment_id)] = payment
        snapshots = [
            self._payment_payload(payment, status, step)
            for step, status in enumerate(plan.statuses)
        ]
        for index in plan.order or range(len(plan.statuses)):
            status = plan.statuses[index]
            if status in plan.drop:
                continue
            for _ in range(2 if status in plan.duplicate else 1):
                await self._deliver(payment, status, snapshots[index])
        return payment

    # ------------------------------------------------------------ provider API

    def _api_key_ok(self, request: web.Request) -> bool:
        given = request.headers.get("x-api-key", "")
        return hmac.compare_digest(given.encode(), self._api_key.encode())

    async def _provider_call(
        self, request: web.Request, *, key_required: bool = True
    ) -> tuple[bytes, web.Response | None]:
        """Record the call; answer from a fault or a key check, or let the handler."""
        body = await request.read()
        key_ok = self._api_key_ok(request)
        answer: web.Response | None = None
        if self._faults:
            fault = self._faults[0]
            if fault.times <= 1:
                self._faults.pop(0)
            else:
                self._faults[0] = attrs.evolve(fault, times=fault.times - 1)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                answer = _error(fault.status, "EMULATED_FAULT", fault.message, headers)
        if answer is None and key_required and not key_ok:
            answer = _error(403, "INVALID_API_KEY", "Invalid api key")
        if answer is not None:
            self._record(request, answer.status, key_ok, body)
        return body, answer

    def _record(self, request: web.Request, status: int, key_ok: bool, body: bytes) -> None:
        if request.path == _AUTH_PATH:
            body = _without_password(body)
        self.calls.append(RecordedCall(request.method, request.path, status, key_ok, body))

    async def _auth(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request, key_required=False)
        if answer is not None:
            return answer
        try:
            response = self._login(body)
        except _BadRequest as exc:
            response = _error(400, "INVALID_REQUEST_PARAMS", str(exc))
        self._record(request, response.status, self._api_key_ok(request), body)
        return response

    def _login(self, body: bytes) -> web.Response:
        """The account's own email and password, and nothing else, buy a token that
        lasts ``token_ttl`` seconds."""
        refused = _error(401, "INVALID_CREDENTIALS", "Invalid email or password")
        if self._account is None:
            return refused
        try:
            data = json.loads(body)
        except ValueError:
            raise _BadRequest("body must be JSON") from None
        if not isinstance(data, dict):
            raise _BadRequest("body must be a JSON object")
        email, password = data.get("email"), data.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            raise _BadRequest('"email" and "password" must be strings')
        expected_email, expected_password = self._account
        # Both comparisons always run, so the time taken does not tell which one failed.
        email_ok = hmac.compare_digest(email.encode(), expected_email)
        password_ok = hmac.compare_digest(password.encode(), expected_password)
        if not (email_ok & password_ok):
            return refused
        now = self._clock()
        # Forget expired tokens so a long demo does not accumulate them.
        self._tokens = {t: until for t, until in self._tokens.items() if until > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self._token_ttl
        return web.json_response({"token": token})

    def _bearer_ok(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        until = self._tokens.get(token.strip())
        return until is not None and self._clock() < until

    async def _list_payments(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        if not self._bearer_ok(request):
            response = _error(401, "AUTH_REQUIRED", "Authorization required")
        else:
            try:
                query = _list_query_from(request.query)
            except _BadRequest as exc:
                response = _error(400, "INVALID_REQUEST_PARAMS", str(exc))
            else:
                response = web.Response(
                    body=js_json(self._payment_page(query)).encode("utf-8"),
                    content_type="application/json",
                )
        self._record(request, response.status, True, body)
        return response

    def _payment_page(self, query: _ListQuery) -> dict[str, object]:
        """One page of the matching payments, extra deposits included, each exactly as
        ``GET /v1/payment/{payment_id}`` describes it now. ``dateFrom`` is inclusive and
        ``dateTo`` exclusive, both on the payment's creation time."""
        matching = [
            payment
            for payment in self.payments.values()
            if (query.invoice_id is None or payment.invoice.id == query.invoice_id)
            and (query.date_from is None or payment.created_at >= query.date_from)
            and (query.date_to is None or payment.created_at < query.date_to)
        ]
        matching.sort(key=_SORT_KEYS[query.sort_by], reverse=query.descending)
        start = query.page * query.limit
        return {
            "data": [
                self._payment_payload(payment, payment.status, None)
                for payment in matching[start : start + query.limit]
            ],
            "limit": query.limit,
            "page": query.page,
            "pagesCount": -(-len(matching) // query.limit),
            "total": len(matching),
        }

    async def _create_invoice(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        try:
            invoice = self._invoice_from(body)
        except _BadRequest as exc:
            response = _error(400, "INVALID_REQUEST_PARAMS", str(exc))
        else:
            self.invoices[invoice.id] = invoice
            response = web.json_response(self._invoice_json(invoice), status=200)
        self._record(request, response.status, True, body)
        return response

    async def _get_payment(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        payment = self.payments.get(request.match_info["payment_id"])
        if payment is None:
            response = _error(404, "PAYMENT_NOT_FOUND", "Payment not found")
        else:
            payload = self._payment_payload(payment, payment.status, None)
            response = web.Response(
                body=sign(payload, self._ipn_secret)[0], content_type="application/json"
            )
        self._record(request, response.status, True, body)
        return response

    def _invoice_from(self, body: bytes) -> EmulatedInvoice:
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise _BadRequest("body must be JSON") from None
        if not isinstance(data, dict):
            raise _BadRequest("body must be a JSON object")
        price = _price(data.get("price_amount"))
        currency = data.get("price_currency")
        if not isinstance(currency, str) or currency.lower() not in PRICE_CURRENCIES:
            raise _BadRequest('"price_currency" is not supported')
        pay_currency = data.get("pay_currency")
        if pay_currency is not None and (
            not isinstance(pay_currency, str) or pay_currency.lower() not in self._rates
        ):
            raise _BadRequest('"pay_currency" is not supported')
        texts = {}
        for field in ("order_id", "order_description", *_URL_FIELDS):
            value = data.get(field)
            if value is not None and not isinstance(value, str):
                raise _BadRequest(f'"{field}" must be a string')
            texts[field] = value
        for field in _URL_FIELDS:
            url = texts[field]
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                raise _BadRequest(f'"{field}" must be a valid uri')
        flags = {}
        for field in ("is_fixed_rate", "is_fee_paid_by_user"):
            value = data.get(field, False)
            if not isinstance(value, bool):
                raise _BadRequest(f'"{field}" must be a boolean')
            flags[field] = value
        return EmulatedInvoice(
            id=str(next(self._ids)),
            price_amount=price,
            price_currency=currency.lower(),
            order_id=texts["order_id"],
            order_description=texts["order_description"],
            pay_currency=pay_currency.lower() if isinstance(pay_currency, str) else None,
            ipn_callback_url=texts["ipn_callback_url"],
            success_url=texts["success_url"],
            cancel_url=texts["cancel_url"],
            is_fixed_rate=flags["is_fixed_rate"],
            is_fee_paid_by_user=flags["is_fee_paid_by_user"],
            created_at=datetime.now(UTC),
        )

    def _invoice_json(self, invoice: EmulatedInvoice) -> dict[str, Any]:
        stamp = _iso(invoice.created_at)
        # The provider's own example answers with the id and the price as strings.
        return {
            "id": invoice.id,
            "token_id": f"emu{invoice.id}",
            "order_id": invoice.order_id,
            "order_description": invoice.order_description,
            "price_amount": f"{invoice.price_amount:f}",
            "price_currency": invoice.price_currency,
            "pay_currency": invoice.pay_currency,
            "ipn_callback_url": invoice.ipn_callback_url,
            "invoice_url": f"{self.base_url}/payment/?iid={invoice.id}",
            "success_url": invoice.success_url,
            "cancel_url": invoice.cancel_url,
            "is_fixed_rate": invoice.is_fixed_rate,
            "is_fee_paid_by_user": invoice.is_fee_paid_by_user,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _payment_payload(
        self, payment: EmulatedPayment, status: str, step: int | None
    ) -> dict[str, object]:
        """A payment as the provider describes it at ``status``, in the provider's own
        key order (not sorted: the signature is over the sorted form)."""
        invoice = payment.invoice
        paid = Decimal(0) if status == "waiting" else payment.actually_paid
        fee = (paid * SERVICE_FEE).quantize(_EIGHT_PLACES)
        payload: dict[str, object] = {
            "payment_id": payment.payment_id,
            "parent_payment_id": payment.parent_payment_id,
            "invoice_id": int(invoice.id),
            "payment_status": status,
            "pay_address": payment.pay_address,
            "payin_extra_id": None,
            "price_amount": invoice.price_amount,
            "price_currency": invoice.price_currency,
            "pay_amount": payment.pay_amount,
            "actually_paid": paid,
            "actually_paid_at_fiat": Decimal(0),
            "pay_currency": payment.pay_currency,
            "order_id": invoice.order_id,
            "order_description": invoice.order_description,
            "purchase_id": payment.purchase_id,
            "outcome_amount": paid - fee,
            "outcome_currency": payment.pay_currency,
            "payment_extra_ids": None,
            "fee": {
                "currency": payment.pay_currency,
                "depositFee": Decimal(0),
                "withdrawalFee": Decimal(0),
                "serviceFee": fee,
            },
        }
        if step is None:
            payload["created_at"] = _iso(payment.created_at)
            payload["updated_at"] = _iso(payment.updated_at)
        else:
            # Notifications carry updated_at as epoch milliseconds.
            payload["updated_at"] = int(payment.created_at.timestamp() * 1000) + step
        return payload

    # ------------------------------------------------------------ IPN delivery

    async def _deliver(
        self, payment: EmulatedPayment, status: str, payload: dict[str, object]
    ) -> None:
        url = payment.invoice.ipn_callback_url
        if url is None:
            return
        body, signature = sign(payload, self._ipn_secret)
        for attempt in range(1, self._ipn_retries + 2):
            response_status, error = await self._post_ipn(url, body, signature)
            delivery = IpnDelivery(
                payment_id=payment.payment_id,
                status=status,
                url=url,
                body=body,
                signature=signature,
                attempt=attempt,
                response_status=response_status,
                error=error,
            )
            payment.deliveries.append(delivery)
            self.deliveries.append(delivery)
            if response_status is not None and 200 <= response_status < 300:
                return
            if attempt <= self._ipn_retries and self._ipn_retry_delay:
                await asyncio.sleep(self._ipn_retry_delay)

    async def _post_ipn(
        self, url: str, body: bytes, signature: str
    ) -> tuple[int | None, str | None]:
        host = urlsplit(url).hostname
        if host not in self._allowed_ipn_hosts:
            # Tests and the demo only ever talk to this machine.
            return None, f"refused: {host!r} is not an allowed IPN host"
        if self._client is None:
            raise RuntimeError("the emulator is not running")
        headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
        try:
            async with self._client.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    # ------------------------------------------------------------ pay page

    async def _pay_page(self, request: web.Request) -> web.Response:
        invoice = self.invoices.get(request.query.get("iid", ""))
        if invoice is None:
            return web.Response(status=404, text="No such invoice")
        price = html.escape(f"{invoice.price_amount:f} {invoice.price_currency.upper()}")
        description = html.escape(invoice.order_description or "")
        options = "".join(
            f'<option value="{html.escape(code)}">{html.escape(code.upper())}</option>'
            for code in sorted(self._rates)
        )
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Pay {price}</title></head>
<body><h1>NowPayments emulator</h1>
<p>Invoice {html.escape(invoice.id)}: <strong>{price}</strong></p><p>{description}</p>
<form method="post" action="/payment/pay">
<input type="hidden" name="iid" value="{html.escape(invoice.id)}">
<label>Coin <select name="pay_currency">{options}</select></label>
<button name="outcome" value="full">Pay in full</button>
<button name="outcome" value="under">Pay half (underpay)</button>
</form></body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def _pay_form(self, request: web.Request) -> web.Response:
        form = await request.post()
        invoice = self.invoices.get(str(form.get("iid", "")))
        if invoice is None:
            return web.Response(status=404, text="No such invoice")
        coin = str(form.get("pay_currency", "btc"))
        rate = self._rates.get(coin)
        if rate is None:
            return web.Response(status=400, text="Unsupported coin")
        plan = PayPlan(pay_currency=coin)
        if form.get("outcome") == "under":
            due = (invoice.price_amount * rate).quantize(_EIGHT_PLACES)
            plan = PayPlan(
                pay_currency=coin,
                actually_paid=(due / 2).quantize(_EIGHT_PLACES),
                statuses=("waiting", "confirming", "partially_paid"),
            )
        await self.pay(invoice.id, plan)
        if invoice.success_url:
            raise web.HTTPSeeOther(invoice.success_url)
        return web.Response(text="Paid. You can close this page.")

    # ------------------------------------------------------------ control API

    async def _control_pay(self, request: web.Request) -> web.Response:
        invoice_id = request.match_info["invoice_id"]
        if invoice_id not in self.invoices:
            return web.json_response({"error": "no such invoice"}, status=404)
        try:
            data = json.loads(await request.read() or b"{}", parse_float=Decimal)
            plan = _plan_from(data)
            payment = await self.pay(invoice_id, plan)
        except (ValueError, TypeError, InvalidOperation) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(
            {
                "payment_id": payment.payment_id,
                "payment_status": payment.status,
                "deliveries": [_delivery_json(d) for d in payment.deliveries],
            }
        )

    async def _control_fault(self, request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise TypeError("a JSON object is expected")
            self.inject_fault(
                Fault(
                    status=data.get("status", 503),
                    times=int(data.get("times", 1)),
                    delay=float(data.get("delay", 0.0)),
                    retry_after=data.get("retry_after"),
                    message=str(data.get("message", "Service temporarily unavailable")),
                )
            )
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.Response(status=204)

    async def _control_calls(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"method": c.method, "path": c.path, "status": c.status, "api_key_ok": c.api_key_ok}
                for c in self.calls
            ]
        )

    async def _control_deliveries(self, request: web.Request) -> web.Response:
        return web.json_response([_delivery_json(d) for d in self.deliveries])


class _BadRequest(Exception):
    pass


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    # The provider's error shape.
    body = {"status": False, "statusCode": status, "code": code, "message": message}
    return web.json_response(body, status=status, headers=headers)


def _price(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise _BadRequest('"price_amount" must be a number')
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise _BadRequest('"price_amount" must be a number') from None
    if not price.is_finite() or price <= 0:
        raise _BadRequest('"price_amount" must be greater than 0')
    return price


def _without_password(body: bytes) -> bytes:
    # Recorded calls end up in test output and the control API; a password must not.
    try:
        data = json.loads(body)
    except ValueError:
        return b""
    if not isinstance(data, dict):
        return b""
    if "password" in data:
        data["password"] = _MASKED
    return json.dumps(data).encode()


def _list_query_from(query: Mapping[str, str]) -> _ListQuery:
    invoice_id = query.get("invoiceId")
    limit = _whole_number(query, "limit", 10)
    if not 1 <= limit <= _MAX_PAGE_SIZE:
        raise _BadRequest(f'"limit" must be from 1 to {_MAX_PAGE_SIZE}')
    page = _whole_number(query, "page", 0)
    sort_by = query.get("sortBy", "created_at")
    if sort_by not in _SORT_KEYS:
        raise _BadRequest(f'"sortBy" must be one of {", ".join(sorted(_SORT_KEYS))}')
    order_by = query.get("orderBy", "asc")
    if order_by not in ("asc", "desc"):
        raise _BadRequest('"orderBy" must be asc or desc')
    return _ListQuery(
        invoice_id=invoice_id,
        limit=limit,
        page=page,
        sort_by=sort_by,
        descending=order_by == "desc",
        date_from=_moment(query, "dateFrom"),
        date_to=_moment(query, "dateTo"),
    )


def _whole_number(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    # int() alone would also take " 7", "+7", "7_0" and non-ASCII digits, and past
    # 4300 digits it raises an error of its own; no real page is that far anyway.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise _BadRequest(f'"{name}" must be a whole number')
    return int(text)


def _moment(query: Mapping[str, str], name: str) -> datetime | None:
    """``YYYY-MM-DD`` (midnight UTC starting that day) or an ISO 8601 timestamp
    (UTC when it names no offset)."""
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(f'"{name}" must be a date (YYYY-MM-DD) or an ISO 8601 time') from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decimal_or_none(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError("amounts must be numbers")
    return Decimal(value)


def _plan_from(data: object) -> PayPlan:
    if not isinstance(data, dict):
        raise TypeError("a JSON object is expected")
    defaults = PayPlan()
    order = data.get("order")
    parent = data.get("parent_payment_id")
    return PayPlan(
        pay_currency=str(data.get("pay_currency", defaults.pay_currency)),
        pay_amount=_decimal_or_none(data.get("pay_amount")),
        actually_paid=_decimal_or_none(data.get("actually_paid")),
        statuses=tuple(str(s) for s in data.get("statuses", defaults.statuses)),
        drop=frozenset(str(s) for s in data.get("drop", ())),
        duplicate=frozenset(str(s) for s in data.get("duplicate", ())),
        order=None if order is None else tuple(int(i) for i in order),
        parent_payment_id=None if parent is None else int(parent),
    )


def _delivery_json(delivery: IpnDelivery) -> dict[str, object]:
    return {
        "payment_id": delivery.payment_id,
        "status": delivery.status,
        "url": delivery.url,
        "attempt": delivery.attempt,
        "response_status": delivery.response_status,
        "error": delivery.error,
    }
