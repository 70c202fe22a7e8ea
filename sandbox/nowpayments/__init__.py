"""A local NowPayments: invoices, payment look-ups, the merchant login whose bearer
token lists payments, and signed IPNs.

:mod:`~sandbox.nowpayments.emulator` serves the routes and keeps the state; beside it
:mod:`~sandbox.nowpayments.accounts` is the login (``POST /v1/auth``) and its tokens,
:mod:`~sandbox.nowpayments.listing` the payment list (``GET /v1/payment/``),
:mod:`~sandbox.nowpayments.invoices` what a new invoice must be,
:mod:`~sandbox.nowpayments.payloads` how invoices and payments are described,
:mod:`~sandbox.nowpayments.ipn` the sending of IPNs, :mod:`~sandbox.nowpayments.faults`
the injected failures, :mod:`~sandbox.nowpayments.pay_page` the hosted pay page and
:mod:`~sandbox.nowpayments.control` the control API.
"""

from sandbox.nowpayments.emulator import (
    DEFAULT_RATES,
    EmulatedInvoice,
    EmulatedPayment,
    Fault,
    IpnDelivery,
    NowPaymentsEmulator,
    PayPlan,
    RecordedCall,
)

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
