"""The control API tests and the demo drive the emulator with (``/_emulator/...``).
It asks for no key: the emulator listens on loopback."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Protocol

from aiohttp import web

from sandbox.nowpayments.faults import Fault
from sandbox.nowpayments.model import (
    EmulatedInvoice,
    EmulatedPayment,
    IpnDelivery,
    PayPlan,
    RecordedCall,
)

__all__ = ["ControlApi", "Controlled"]


class Controlled(Protocol):
    @property
    def invoices(self) -> Mapping[str, EmulatedInvoice]: ...

    @property
    def calls(self) -> Sequence[RecordedCall]: ...

    @property
    def deliveries(self) -> Sequence[IpnDelivery]: ...

    async def pay(self, invoice_id: str, plan: PayPlan | None = None) -> EmulatedPayment: ...

    def inject_fault(self, fault: Fault) -> None: ...


class ControlApi:
    """The handlers of the control routes, over the emulator they control."""

    def __init__(self, emulator: Controlled) -> None:
        self._emulator = emulator

    async def pay(self, request: web.Request) -> web.Response:
        """``POST /_emulator/invoices/{invoice_id}/pay``: a JSON PayPlan (every field
        optional); answers the payment and the IPN deliveries made."""
        invoice_id = request.match_info["invoice_id"]
        if invoice_id not in self._emulator.invoices:
            return web.json_response({"error": "no such invoice"}, status=404)
        try:
            data = json.loads(await request.read() or b"{}", parse_float=Decimal)
            plan = _plan_from(data)
            payment = await self._emulator.pay(invoice_id, plan)
        except (ValueError, TypeError, InvalidOperation) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(
            {
                "payment_id": payment.payment_id,
                "payment_status": payment.status,
                "deliveries": [_delivery_json(d) for d in payment.deliveries],
            }
        )

    async def fault(self, request: web.Request) -> web.Response:
        """``POST /_emulator/faults``: a JSON Fault (every field optional)."""
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise TypeError("a JSON object is expected")
            self._emulator.inject_fault(
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

    async def calls(self, request: web.Request) -> web.Response:
        """``GET /_emulator/calls``: every API call received, without its body."""
        return web.json_response(
            [
                {"method": c.method, "path": c.path, "status": c.status, "api_key_ok": c.api_key_ok}
                for c in self._emulator.calls
            ]
        )

    async def deliveries(self, request: web.Request) -> web.Response:
        """``GET /_emulator/deliveries``: every IPN attempt, with its answer."""
        return web.json_response([_delivery_json(d) for d in self._emulator.deliveries])


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


def _decimal_or_none(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError("amounts must be numbers")
    return Decimal(value)


def _delivery_json(delivery: IpnDelivery) -> dict[str, object]:
    return {
        "payment_id": delivery.payment_id,
        "status": delivery.status,
        "url": delivery.url,
        "attempt": delivery.attempt,
        "response_status": delivery.response_status,
        "error": delivery.error,
    }
