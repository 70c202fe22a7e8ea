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

This module serves the routes and keeps the state; the package's docstring says
which module holds each part.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType

from aiohttp import web

from sandbox.nowpayments.accounts import MerchantAccount, without_password
from sandbox.nowpayments.control import ControlApi
from sandbox.nowpayments.errors import BadRequest, provider_error
from sandbox.nowpayments.faults import Fault, FaultQueue
from sandbox.nowpayments.invoices import invoice_from
from sandbox.nowpayments.ipn import LOOPBACK_HOSTS, IpnCourier
from sandbox.nowpayments.js_form import js_json
from sandbox.nowpayments.listing import list_query_from, payment_page
from sandbox.nowpayments.model import (
    DEFAULT_RATES,
    EmulatedInvoice,
    EmulatedPayment,
    IpnDelivery,
    PayPlan,
    RecordedCall,
    in_coin,
)
from sandbox.nowpayments.pay_page import HostedPayPage
from sandbox.nowpayments.payloads import invoice_json, payment_payload

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

_AUTH_PATH = "/v1/auth"


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
        self._account = MerchantAccount(
            account_email, account_password, token_ttl=token_ttl, clock=clock
        )
        self._rates = dict(rates)
        self._ipn = IpnCourier(
            secret=ipn_secret,
            retries=ipn_retries,
            retry_delay=ipn_retry_delay,
            timeout=ipn_timeout,
            allowed_hosts=allowed_ipn_hosts,
        )
        self._ids = itertools.count(first_id)
        self._faults = FaultQueue()
        self._runner: web.AppRunner | None = None
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
        pay_page = HostedPayPage(self, self._rates)
        control = ControlApi(self)
        app = web.Application()
        app.router.add_post(_AUTH_PATH, self._auth)
        app.router.add_post("/v1/invoice", self._create_invoice)
        app.router.add_get("/v1/payment/", self._list_payments)
        app.router.add_get("/v1/payment/{payment_id}", self._get_payment)
        app.router.add_get("/payment/", pay_page.show)
        app.router.add_post("/payment/pay", pay_page.submit)
        app.router.add_post("/_emulator/invoices/{invoice_id}/pay", control.pay)
        app.router.add_post("/_emulator/faults", control.fault)
        app.router.add_get("/_emulator/calls", control.calls)
        app.router.add_get("/_emulator/deliveries", control.deliveries)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._ipn.open()
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}"
        logger.info("NowPayments emulator listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        await self._ipn.close()
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
        self._faults.add(fault)

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
            pay_amount = in_coin(invoice.price_amount * rate)
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
            payment_payload(payment, status, step) for step, status in enumerate(plan.statuses)
        ]
        for index in plan.notifications():
            await self._notify(payment, plan.statuses[index], snapshots[index])
        return payment

    async def refund(self, payment_id: str) -> EmulatedPayment:
        """The merchant refunded a payment: it moves to ``refunded`` and its IPN is
        delivered. Raises KeyError for an unknown payment."""
        payment = self.payments[payment_id]
        payment.status = "refunded"
        payment.updated_at = datetime.now(UTC)
        await self._notify(payment, "refunded", payment_payload(payment, "refunded", None))
        return payment

    async def _notify(
        self, payment: EmulatedPayment, status: str, payload: dict[str, object]
    ) -> None:
        url = payment.invoice.ipn_callback_url
        if url is None:
            return
        async for delivery in self._ipn.deliver(url, payment.payment_id, status, payload):
            payment.deliveries.append(delivery)
            self.deliveries.append(delivery)

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
        answer = await self._faults.next_answer()
        if answer is None and key_required and not key_ok:
            answer = provider_error(403, "INVALID_API_KEY", "Invalid api key")
        if answer is not None:
            self._record(request, answer.status, key_ok, body)
        return body, answer

    def _record(self, request: web.Request, status: int, key_ok: bool, body: bytes) -> None:
        if request.path == _AUTH_PATH:
            body = without_password(body)
        self.calls.append(RecordedCall(request.method, request.path, status, key_ok, body))

    async def _auth(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request, key_required=False)
        if answer is not None:
            return answer
        try:
            token = self._account.login(body)
        except BadRequest as exc:
            response = provider_error(400, "INVALID_REQUEST_PARAMS", str(exc))
        else:
            if token is None:
                response = provider_error(401, "INVALID_CREDENTIALS", "Invalid email or password")
            else:
                response = web.json_response({"token": token})
        self._record(request, response.status, self._api_key_ok(request), body)
        return response

    async def _list_payments(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        if not self._account.bearer_ok(request.headers.get("Authorization", "")):
            response = provider_error(401, "AUTH_REQUIRED", "Authorization required")
        else:
            try:
                query = list_query_from(request.query)
            except BadRequest as exc:
                response = provider_error(400, "INVALID_REQUEST_PARAMS", str(exc))
            else:
                page = payment_page(self.payments.values(), query)
                response = web.Response(
                    body=js_json(page).encode("utf-8"), content_type="application/json"
                )
        self._record(request, response.status, True, body)
        return response

    async def _create_invoice(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        try:
            invoice = invoice_from(body, coins=self._rates, ids=self._ids)
        except BadRequest as exc:
            response = provider_error(400, "INVALID_REQUEST_PARAMS", str(exc))
        else:
            self.invoices[invoice.id] = invoice
            response = web.json_response(invoice_json(invoice, self.base_url), status=200)
        self._record(request, response.status, True, body)
        return response

    async def _get_payment(self, request: web.Request) -> web.Response:
        body, answer = await self._provider_call(request)
        if answer is not None:
            return answer
        payment = self.payments.get(request.match_info["payment_id"])
        if payment is None:
            response = provider_error(404, "PAYMENT_NOT_FOUND", "Payment not found")
        else:
            payload = payment_payload(payment, payment.status, None)
            response = web.Response(
                body=js_json(payload).encode("utf-8"), content_type="application/json"
            )
        self._record(request, response.status, True, body)
        return response
