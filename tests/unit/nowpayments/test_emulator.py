"""The emulator pays invoices and notifies like NowPayments: its IPNs verify with our
ipn.py, its signatures match what Node computes, and its delivery options (drop,
duplicate, reorder, retry) do what tests will rely on."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import attrs
import pytest

from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.payments import InvoiceRequest, ProviderRejected
from core.ports.security import Secret
from sandbox.nowpayments import EmulatedPayment, Fault, NowPaymentsEmulator, PayPlan
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


# ---------------------------------------------------------------- login and payment list

EMAIL = "owner@paygate.example"
PASSWORD = "correct horse battery staple"


@attrs.define
class FakeClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def account(clock: FakeClock) -> AsyncIterator[NowPaymentsEmulator]:
    """An emulator whose account can log in, with tokens living 300 s of ``clock``."""
    async with NowPaymentsEmulator(
        api_key=API_KEY,
        ipn_secret=IPN_SECRET,
        account_email=EMAIL,
        account_password=PASSWORD,
        token_ttl=300.0,
        clock=clock,
    ) as emulator:
        yield emulator


async def log_in(
    session: aiohttp.ClientSession,
    emulator: NowPaymentsEmulator,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    async with session.post(
        f"{emulator.base_url}/v1/auth",
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    ) as response:
        return response.status, await response.json()


def credentials(email: str = EMAIL, password: str = PASSWORD) -> bytes:
    return json.dumps({"email": email, "password": password}).encode()


async def token_for(session: aiohttp.ClientSession, emulator: NowPaymentsEmulator) -> str:
    status, answer = await log_in(session, emulator, credentials())
    assert status == 200
    token = answer["token"]
    assert isinstance(token, str)
    return token


async def list_payments(
    session: aiohttp.ClientSession,
    emulator: NowPaymentsEmulator,
    headers: Mapping[str, str],
    query: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    async with session.get(
        f"{emulator.base_url}/v1/payment/", params=query or {}, headers=headers
    ) as response:
        return response.status, await response.text()


async def listed(
    session: aiohttp.ClientSession,
    emulator: NowPaymentsEmulator,
    query: Mapping[str, str] | None = None,
) -> Any:
    headers = {
        "x-api-key": API_KEY,
        "Authorization": f"Bearer {await token_for(session, emulator)}",
    }
    status, text = await list_payments(session, emulator, headers, query)
    assert status == 200, text
    return json.loads(text, parse_float=Decimal)


def ids(answer: Any) -> list[int]:
    return [payment["payment_id"] for payment in answer["data"]]


async def bare_invoice(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator, price: str = "25"
) -> str:
    """An invoice without a callback, so paying it sends no IPN."""
    body = {"price_amount": price, "price_currency": "eur", "order_id": ORDER_ID}
    async with session.post(
        f"{emulator.base_url}/v1/invoice", json=body, headers={"x-api-key": API_KEY}
    ) as response:
        assert response.status == 200
        invoice_id = (await response.json())["id"]
    assert isinstance(invoice_id, str)
    return invoice_id


def refusal(status: int, code: str, message: str) -> dict[str, object]:
    return {"status": False, "statusCode": status, "code": code, "message": message}


async def test_the_account_credentials_buy_a_fresh_bearer_token_each_time(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    first = await token_for(session, account)
    second = await token_for(session, account)
    assert len(first) >= 32
    assert first != second


@pytest.mark.parametrize(
    ("email", "password"),
    [(EMAIL, "wrong"), (EMAIL, PASSWORD[:-1]), ("other@paygate.example", PASSWORD), ("", "")],
)
async def test_a_wrong_email_or_password_is_refused(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, email: str, password: str
) -> None:
    assert await log_in(session, account, credentials(email, password)) == (
        401,
        refusal(401, "INVALID_CREDENTIALS", "Invalid email or password"),
    )


@pytest.mark.parametrize(
    "body",
    [
        b"email=owner&password=secret",
        b'["owner@paygate.example", "secret"]',
        b'{"email": "owner@paygate.example"}',
        b'{"email": 7, "password": "secret"}',
        b'{"email": "owner@paygate.example", "password": null}',
    ],
)
async def test_a_login_without_string_email_and_password_is_a_bad_request(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, body: bytes
) -> None:
    status, answer = await log_in(session, account, body)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST_PARAMS")


@pytest.mark.parametrize(("email", "password"), [(None, None), (EMAIL, None), (None, PASSWORD)])
async def test_an_account_without_credentials_refuses_every_login(
    session: aiohttp.ClientSession, email: str | None, password: str | None
) -> None:
    async with NowPaymentsEmulator(
        api_key=API_KEY, ipn_secret=IPN_SECRET, account_email=email, account_password=password
    ) as emulator:
        for body in (credentials(), credentials(EMAIL, ""), b"{}"):
            status, answer = await log_in(session, emulator, body)
            assert (status, answer["code"]) == (401, "INVALID_CREDENTIALS")


async def test_a_login_needs_no_api_key_but_meets_injected_faults(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    status, _ = await log_in(session, account, credentials())
    account.inject_fault(Fault(status=503, retry_after="2"))
    async with session.post(f"{account.base_url}/v1/auth", data=credentials()) as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "2"
    assert status == 200
    assert [(c.path, c.status, c.api_key_ok) for c in account.calls] == [
        ("/v1/auth", 200, False),
        ("/v1/auth", 503, False),
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token-we-issued", "{token}", "Basic {token}", "Bearer"],
)
async def test_the_payment_list_refuses_a_missing_or_unknown_token(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, authorization: str | None
) -> None:
    token = await token_for(session, account)
    headers = {"x-api-key": API_KEY}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=token)
    status, text = await list_payments(session, account, headers)
    assert (status, json.loads(text)) == (
        401,
        refusal(401, "AUTH_REQUIRED", "Authorization required"),
    )


async def test_a_token_is_refused_once_its_lifetime_is_over(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, clock: FakeClock
) -> None:
    issued_at = clock.now
    headers = {"x-api-key": API_KEY, "Authorization": f"Bearer {await token_for(session, account)}"}
    clock.now = issued_at + 299.5
    still_valid, _ = await list_payments(session, account, headers)
    clock.now = issued_at + 300.0
    expired, text = await list_payments(session, account, headers)
    assert (still_valid, expired) == (200, 401)
    assert json.loads(text)["code"] == "AUTH_REQUIRED"


@pytest.mark.parametrize("api_key", [None, "not-the-api-key"])
async def test_the_payment_list_needs_the_api_key_as_well_as_the_token(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, api_key: str | None
) -> None:
    headers = {"Authorization": f"Bearer {await token_for(session, account)}"}
    if api_key is not None:
        headers["x-api-key"] = api_key
    status, text = await list_payments(session, account, headers)
    assert (status, json.loads(text)) == (403, refusal(403, "INVALID_API_KEY", "Invalid api key"))


async def test_the_list_for_an_invoice_holds_its_payments_and_extra_deposits_only(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    first, other = await bare_invoice(session, account), await bare_invoice(session, account)
    paid = await account.pay(first)
    elsewhere = await account.pay(other)
    deposit = await account.pay(first, PayPlan(parent_payment_id=paid.payment_id))
    answer = await listed(session, account, {"invoiceId": first})
    assert ids(answer) == [paid.payment_id, deposit.payment_id]
    assert [p["parent_payment_id"] for p in answer["data"]] == [None, paid.payment_id]
    assert (answer["total"], answer["pagesCount"]) == (2, 1)
    assert ids(await listed(session, account, {"invoiceId": other})) == [elsewhere.payment_id]


async def test_the_list_is_served_in_pages(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    invoice_id = await bare_invoice(session, account)
    payments = [(await account.pay(invoice_id)).payment_id for _ in range(3)]
    pages = [
        await listed(session, account, {"limit": "1", "page": str(page)}) for page in (0, 1, 3)
    ]
    assert [ids(page) for page in pages] == [payments[:1], payments[1:2], []]
    assert [(p["limit"], p["page"], p["pagesCount"], p["total"]) for p in pages] == [
        (1, 0, 3, 3),
        (1, 1, 3, 3),
        (1, 3, 3, 3),
    ]


async def test_the_list_defaults_to_the_first_ten_and_has_no_pages_when_empty(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    empty = await listed(session, account)
    invoice_id = await bare_invoice(session, account)
    payments = [(await account.pay(invoice_id)).payment_id for _ in range(11)]
    first = await listed(session, account)
    assert empty == {"data": [], "limit": 10, "page": 0, "pagesCount": 0, "total": 0}
    assert ids(first) == payments[:10]
    assert (first["limit"], first["page"], first["pagesCount"], first["total"]) == (10, 0, 2, 11)


async def test_the_list_is_sorted_by_the_field_and_in_the_order_asked(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    invoice_id = await bare_invoice(session, account)
    a, b, c = [await account.pay(invoice_id) for _ in range(3)]
    # Creation and update orders that differ from each other and from the ids'.
    for payment, created, updated in ((a, 3, 1), (b, 1, 2), (c, 2, 3)):
        payment.created_at = datetime(2024, 5, created, tzinfo=UTC)
        payment.updated_at = datetime(2024, 6, 4 - updated, tzinfo=UTC)
    orders = {
        query: ids(await listed(session, account, dict(query)))
        for query in (
            (),
            (("orderBy", "desc"),),
            (("sortBy", "updated_at"),),
            (("sortBy", "payment_id"), ("orderBy", "desc")),
        )
    }
    assert list(orders.values()) == [
        [b.payment_id, c.payment_id, a.payment_id],
        [a.payment_id, c.payment_id, b.payment_id],
        [c.payment_id, b.payment_id, a.payment_id],
        [c.payment_id, b.payment_id, a.payment_id],
    ]


async def test_payments_created_at_the_same_time_are_listed_in_id_order(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    invoice_id = await bare_invoice(session, account)
    payments = [await account.pay(invoice_id) for _ in range(3)]
    for payment in payments:
        payment.created_at = datetime(2024, 5, 1, tzinfo=UTC)
    ascending = ids(await listed(session, account))
    descending = ids(await listed(session, account, {"orderBy": "desc"}))
    assert ascending == [p.payment_id for p in payments]
    assert descending == ascending[::-1]


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time nine hours ahead, so reading a zoneless time as local would show."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Dates and zoneless times are UTC; dateFrom is inclusive and dateTo exclusive.
        ({"dateFrom": "2024-05-01", "dateTo": "2024-05-02"}, ["midnight", "noon"]),
        ({"dateFrom": "2024-05-01T12:00:00.123Z"}, ["noon", "next day"]),
        ({"dateFrom": "2024-05-01T14:00:00.124+02:00"}, ["next day"]),
        ({"dateTo": "2024-05-01T12:00:00.123Z"}, ["midnight"]),
        ({"dateTo": "2024-05-01T12:00:00.124"}, ["midnight", "noon"]),
    ],
)
async def test_the_list_filters_on_the_creation_time(
    session: aiohttp.ClientSession,
    account: NowPaymentsEmulator,
    query: dict[str, str],
    expected: list[str],
) -> None:
    invoice_id = await bare_invoice(session, account)
    created = {
        "midnight": datetime(2024, 5, 1, tzinfo=UTC),
        # Listed as 12:00:00.123Z: that listed time is a bound it is inside from, outside to.
        "noon": datetime(2024, 5, 1, 12, 0, 0, 123_456, tzinfo=UTC),
        "next day": datetime(2024, 5, 2, tzinfo=UTC),
    }
    names = {}
    for name, moment in created.items():
        payment = await account.pay(invoice_id)
        payment.created_at = moment
        names[payment.payment_id] = name
    assert [names[i] for i in ids(await listed(session, account, query))] == expected


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"limit": " 5"},
        {"page": "-1"},
        {"page": "1e3"},
        {"page": "9" * 5000},
        {"sortBy": "amount"},
        {"orderBy": "up"},
        {"orderBy": "DESC"},
        {"dateFrom": "yesterday"},
        {"dateTo": "2024-13-01"},
    ],
)
async def test_bad_list_parameters_are_refused(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, query: dict[str, str]
) -> None:
    headers = {"x-api-key": API_KEY, "Authorization": f"Bearer {await token_for(session, account)}"}
    status, text = await list_payments(session, account, headers, query)
    assert (status, json.loads(text)["code"]) == (400, "INVALID_REQUEST_PARAMS")


async def test_a_listed_payment_is_exactly_what_its_lookup_reports(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    # One euro: a service fee JavaScript writes as 8e-8, and an underpaid extra deposit.
    invoice_id = await bare_invoice(session, account, "1")
    first = await account.pay(invoice_id)
    await account.pay(
        invoice_id,
        PayPlan(
            parent_payment_id=first.payment_id,
            actually_paid=Decimal("0.00000801"),
            statuses=("waiting", "partially_paid"),
        ),
    )
    headers = {"x-api-key": API_KEY}
    lookups = []
    for payment_id in account.payments:
        async with session.get(
            f"{account.base_url}/v1/payment/{payment_id}", headers=headers
        ) as response:
            assert response.status == 200
            lookups.append(await response.text())
    status, listing = await list_payments(
        session,
        account,
        {**headers, "Authorization": f"Bearer {await token_for(session, account)}"},
        {"invoiceId": invoice_id},
    )
    assert status == 200
    assert json.loads(listing, parse_float=Decimal)["data"] == [
        json.loads(lookup, parse_float=Decimal) for lookup in lookups
    ]
    # Same writer, same bytes: the numbers are written exactly as the look-up writes them.
    assert listing.startswith('{"data":[' + ",".join(lookups) + "],")
    assert '"serviceFee":8e-8}' in listing


async def test_no_password_or_token_is_ever_recorded(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    token = await token_for(session, account)
    await log_in(session, account, credentials(password="hunter2-almost"))
    await log_in(session, account, b'{"email": "x", "password": "hunter2-broken"')
    headers = {"x-api-key": API_KEY, "Authorization": f"Bearer {token}"}
    status, _ = await list_payments(session, account, headers)
    async with session.get(f"{account.base_url}/_emulator/calls") as response:
        shown = await response.text()
    recorded = [(c.path, c.status, c.body) for c in account.calls]
    assert status == 200
    assert recorded == [
        ("/v1/auth", 200, b'{"email": "owner@paygate.example", "password": "***"}'),
        ("/v1/auth", 401, b'{"email": "owner@paygate.example", "password": "***"}'),
        ("/v1/auth", 400, b""),
        ("/v1/payment/", 200, b""),
    ]
    for secret in (PASSWORD, "hunter2", token):
        assert secret not in shown
        assert secret not in repr(account.calls)
