"""The hosted pay page ``invoice_url`` points at: a payer picks a coin and pays in
full or half, and the emulator pays the invoice accordingly."""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from aiohttp import web

from sandbox.nowpayments.model import EmulatedInvoice, EmulatedPayment, PayPlan, in_coin

__all__ = ["HostedPayPage", "Payee"]


class Payee(Protocol):
    @property
    def invoices(self) -> Mapping[str, EmulatedInvoice]: ...

    async def pay(self, invoice_id: str, plan: PayPlan | None = None) -> EmulatedPayment: ...


class HostedPayPage:
    """``GET /payment/?iid=...`` shows the page; ``POST /payment/pay`` is its form."""

    def __init__(self, payee: Payee, rates: Mapping[str, Decimal]) -> None:
        self._payee = payee
        self._rates = rates

    async def show(self, request: web.Request) -> web.Response:
        invoice = self._payee.invoices.get(request.query.get("iid", ""))
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

    async def submit(self, request: web.Request) -> web.Response:
        """Pay as the form says; then on to the invoice's ``success_url``, if any."""
        form = await request.post()
        invoice = self._payee.invoices.get(str(form.get("iid", "")))
        if invoice is None:
            return web.Response(status=404, text="No such invoice")
        coin = str(form.get("pay_currency", "btc"))
        rate = self._rates.get(coin)
        if rate is None:
            return web.Response(status=400, text="Unsupported coin")
        plan = PayPlan(pay_currency=coin)
        if form.get("outcome") == "under":
            due = in_coin(invoice.price_amount * rate)
            plan = PayPlan(
                pay_currency=coin,
                actually_paid=in_coin(due / 2),
                statuses=("waiting", "confirming", "partially_paid"),
            )
        await self._payee.pay(invoice.id, plan)
        if invoice.success_url:
            raise web.HTTPSeeOther(invoice.success_url)
        return web.Response(text="Paid. You can close this page.")
