"""A local NowPayments: invoices, payment look-ups and signed IPNs."""

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
