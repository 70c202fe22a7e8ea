"""The emulator pays invoices and notifies like NowPayments: its IPNs verify with our
ipn.py, its signatures match what Node computes, and its delivery options (drop,
duplicate, reorder, retry) do what tests will rely on."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp
import pytest

from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.payments import InvoiceRequest, ProviderRejected
from core.ports.security import Secret
from sandbox.nowpayments import EmulatedPayment, NowPaymentsEmulator, PayPlan
from tests.unit.nowpayments.conftest import API_KEY, IPN_SECRET, IpnReceiver
from tests.unit.nowpayments.node_reference import NodeReference

ORDER_ID = "Xy9_tagtagtagtagtagtagtag"


def gateway_for(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator, callback: str
) -> NowPaymentsGateway:
    settings = NowPaymentsSettings(
        api_key=Secret(API_KEY),
        ipn_secret=Secret(IPN_SECRET),
        ipn_callback_url=callback,
        success_url="http://127.0.0.1:9/paid",
    )
    return NowPaymentsGateway(session, settings, base_url=emulator.base_url)


async def new_invoice(gateway: NowPaymentsGateway, price: str = "25") -> str:
    invoice = await gateway.create_invoice(
        InvoiceRequest(ORDER_ID, Money(Decimal(price), "EUR"), "Tier 2, 90 days")
    )
    return invoice.invoice_id


def verified(gateway: NowPaymentsGateway, receiver: IpnReceiver) -> list[ProviderNotification]:
    return [gateway.verify_notification(ipn.body, ipn.headers) for ipn in receiver.received]


@pytest.fixture
def gateway(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> NowPaymentsGateway:
    return gateway_for(session, emulator, receiver.url)


async def test_paying_sends_one_verifiable_ipn_per_status(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> None:
    invoice_id = await new_invoice(gateway)
    payment = await emulator.pay(invoice_id, PayPlan(pay_currency="eth"))
    notifications = verified(gateway, receiver)
    assert [n.status for n in notifications] == [
        IntentStatus.WAITING,
        IntentStatus.CONFIRMING,
        IntentStatus.CONFIRMED,
        IntentStatus.FINISHED,
    ]
    first, last = notifications[0], notifications[-1]
    assert {n.payment_id for n in notifications} == {str(payment.payment_id)}
    assert {n.order_id for n in notifications} == {ORDER_ID}
    assert {n.invoice_id for n in notifications} == {invoice_id}
    assert last.price == Money(Decimal("25"), "EUR")
    # 25 EUR at the emulator's 0.00031 ETH per unit.
    assert last.pay_amount == Money(Decimal("0.00775"), "ETH")
    assert last.actually_paid == Money(Decimal("0.00775"), "ETH")
    assert first.actually_paid == Money(Decimal("0"), "ETH")
    assert [d.response_status for d in payment.deliveries] == [200, 200, 200, 200]


async def test_the_wire_body_is_unsorted_and_the_signature_is_what_node_computes(
    gateway: NowPaymentsGateway,
    emulator: NowPaymentsEmulator,
    receiver: IpnReceiver,
    node_reference: NodeReference,
) -> None:
    # One euro in bitcoin: a 0.5% fee of 0.00000008 BTC, which JavaScript writes 8e-8.
    await emulator.pay(await new_invoice(gateway, "1"))
    bodies = [ipn.body.decode() for ipn in receiver.received]
    assert all(body.startswith('{"payment_id":') for body in bodies)
    assert '"serviceFee":8e-8}' in bodies[-1]
    assert verified(gateway, receiver)[-1].outcome == Money(Decimal("0.00001602"), "BTC")
    answers = node_reference.ask_many(bodies, IPN_SECRET)
    assert [answer.hmac for answer in answers] == [
        ipn.headers["x-nowpayments-sig"] for ipn in receiver.received
    ]


async def test_an_underpayment_ends_partially_paid_with_what_arrived(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> None:
    invoice_id = await new_invoice(gateway, "10")
    plan = PayPlan(
        pay_currency="usdttrc20",
        actually_paid=Decimal("4"),
        statuses=("waiting", "partially_paid"),
    )
    await emulator.pay(invoice_id, plan)
    last = verified(gateway, receiver)[-1]
    assert last.status is IntentStatus.PARTIALLY_PAID
    assert last.actually_paid == Money(Decimal("4"), "USDTTRC20")
    assert last.paid_fraction() == Decimal("0.4")


async def test_notifications_can_be_dropped_duplicated_and_reordered(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> None:
    plan = PayPlan(
        drop=frozenset({"confirming"}), duplicate=frozenset({"finished"}), order=(3, 2, 1, 0)
    )
    payment = await emulator.pay(await new_invoice(gateway), plan)
    assert [n.status.value for n in verified(gateway, receiver)] == [
        "finished",
        "finished",
        "confirmed",
        "waiting",
    ]
    # The provider's own view is the end of the sequence, whatever was delivered.
    looked_up = await gateway.lookup_payment(str(payment.payment_id))
    assert looked_up.status is IntentStatus.FINISHED


async def test_an_extra_deposit_is_reported_with_its_parent(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> None:
    invoice_id = await new_invoice(gateway)
    first = await emulator.pay(invoice_id)
    await emulator.pay(
        invoice_id, PayPlan(parent_payment_id=first.payment_id, statuses=("finished",))
    )
    assert verified(gateway, receiver)[-1].parent_payment_id == str(first.payment_id)


async def test_a_failing_webhook_is_retried_as_configured(
    session: aiohttp.ClientSession, receiver: IpnReceiver
) -> None:
    receiver.answer_status = 503
    async with NowPaymentsEmulator(api_key=API_KEY, ipn_secret=IPN_SECRET, ipn_retries=2) as emu:
        gateway = gateway_for(session, emu, receiver.url)
        payment = await emu.pay(await new_invoice(gateway), PayPlan(statuses=("finished",)))
    assert [(d.attempt, d.response_status) for d in payment.deliveries] == [
        (1, 503),
        (2, 503),
        (3, 503),
    ]
    assert len(receiver.received) == 3


async def test_callbacks_off_this_machine_are_never_contacted(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator
) -> None:
    gateway = gateway_for(session, emulator, "https://merchant.example/ipn")
    payment = await emulator.pay(await new_invoice(gateway), PayPlan(statuses=("finished",)))
    assert [(d.response_status, d.error) for d in payment.deliveries] == [
        (None, "refused: 'merchant.example' is not an allowed IPN host")
    ]


async def test_an_invoice_request_missing_the_price_is_refused_like_the_provider(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator
) -> None:
    headers = {"x-api-key": API_KEY}
    async with session.post(
        f"{emulator.base_url}/v1/invoice", json={"price_currency": "usd"}, headers=headers
    ) as response:
        assert response.status == 400
        assert await response.json() == {
            "status": False,
            "statusCode": 400,
            "code": "INVALID_REQUEST_PARAMS",
            "message": '"price_amount" must be a number',
        }


async def test_the_http_control_api_pays_injects_faults_and_lists_calls(
    gateway: NowPaymentsGateway,
    emulator: NowPaymentsEmulator,
    receiver: IpnReceiver,
    session: aiohttp.ClientSession,
) -> None:
    invoice_id = await new_invoice(gateway)
    control = f"{emulator.base_url}/_emulator"
    plan = {"pay_currency": "ltc", "statuses": ["waiting", "finished"], "duplicate": ["finished"]}
    async with session.post(f"{control}/invoices/{invoice_id}/pay", json=plan) as response:
        assert response.status == 200
        paid = await response.json()
    assert paid["payment_status"] == "finished"
    assert [d["status"] for d in paid["deliveries"]] == ["waiting", "finished", "finished"]
    assert [n.status.value for n in verified(gateway, receiver)] == [
        "waiting",
        "finished",
        "finished",
    ]

    async with session.post(f"{control}/faults", json={"status": 418, "message": "teapot"}) as r:
        assert r.status == 204
    with pytest.raises(ProviderRejected, match=r"\(418\): teapot"):
        await gateway.create_invoice(InvoiceRequest(ORDER_ID, Money("5", "USD"), "d"))

    async with session.get(f"{control}/calls") as response:
        calls = await response.json()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", "/v1/invoice", 200),
        ("POST", "/v1/invoice", 418),
    ]


async def test_the_control_api_refuses_a_nonsensical_plan(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, session: aiohttp.ClientSession
) -> None:
    invoice_id = await new_invoice(gateway)
    url = f"{emulator.base_url}/_emulator/invoices/{invoice_id}/pay"
    async with session.post(url, json={"statuses": ["waiting"], "order": [1, 0]}) as response:
        assert response.status == 400
        assert "permutation" in (await response.json())["error"]


async def test_the_pay_page_pays_and_sends_the_payer_to_the_success_url(
    gateway: NowPaymentsGateway,
    emulator: NowPaymentsEmulator,
    receiver: IpnReceiver,
    session: aiohttp.ClientSession,
) -> None:
    invoice_id = await new_invoice(gateway)
    form = {"iid": invoice_id, "pay_currency": "btc", "outcome": "under"}
    async with session.post(
        f"{emulator.base_url}/payment/pay", data=form, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "http://127.0.0.1:9/paid"
    last = verified(gateway, receiver)[-1]
    assert last.status is IntentStatus.PARTIALLY_PAID
    assert last.paid_fraction() == Decimal("0.5")


async def test_every_payment_is_recorded_for_inspection(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> None:
    payment = await emulator.pay(await new_invoice(gateway))
    recorded: EmulatedPayment = emulator.payments[str(payment.payment_id)]
    assert recorded.status == "finished"
    assert len(emulator.deliveries) == 4
    bodies = [json.loads(d.body)["payment_status"] for d in emulator.deliveries]
    assert bodies == ["waiting", "confirming", "confirmed", "finished"]
