"""The payment webhook under attack and under load, on a real server.

* 10,000 forged or mutated notifications (bit flips in body or signature, wrong
  keys, truncated signatures, tampered bodies under an upper-cased signature,
  reordered keys, junk and duplicate headers, oversized bodies): none is accepted,
  none is a server error, nothing is stored. The genuine notification is accepted
  afterwards, so the refusals were the signature check's doing.
* 50 concurrent copies of one paying notification grant exactly once, on the
  in-memory store, SQLite and Postgres; replays afterwards change nothing.

Hex is case-insensitive, so the upper-cased hex of a *valid* signature is the same
signature and is accepted by design; the upper-case mutation here goes with a
tampered body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal

import pytest

from adapters.inbound.http import build_app
from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from core.domain.ids import UserId
from core.domain.payment import EventOutcome
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import IssuedInvoice
from sandbox.nowpayments.js_form import js_json
from tests.contract.backends_sql import postgres_backend, sqlite_backend
from tests.contract.http.shop import (
    IPN_SECRET,
    WRONG_SECRET,
    Client,
    Shop,
    build_shop,
    make_deps,
    serve,
    signed,
)

USER = UserId(4242)
URL = "/webhooks/nowpayments"
FORGERIES = 10_000
BATCH = 250
COPIES = 50

Forgery = tuple[str, bytes, list[tuple[str, str]]]


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def _flip_bit(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data) * 8)
    flipped = bytearray(data)
    flipped[position // 8] ^= 1 << (position % 8)
    return bytes(flipped)


def _shuffled(payload: dict[str, object], rng: random.Random) -> dict[str, object]:
    keys = list(payload)
    while keys == sorted(keys) or keys == list(payload):
        rng.shuffle(keys)
    return {k: payload[k] for k in keys}


def forgeries(shop: Shop, invoice: IssuedInvoice, rng: random.Random) -> Iterator[Forgery]:
    """Mutations of the genuine paying notification, cycling through every kind."""
    genuine_payload = shop.payload(invoice, "finished", payment_id=9_000_001)
    genuine, headers = signed(genuine_payload)
    signature = headers["x-nowpayments-sig"]
    tampered_payload = genuine_payload | {
        "actually_paid": Decimal("0.4"),
        "pay_amount": Decimal("0.4"),
    }
    tampered = js_json(tampered_payload).encode()
    waiting_signature = signed(shop.payload(invoice, "waiting", payment_id=9_000_001))[1][
        "x-nowpayments-sig"
    ]
    oversized, oversized_headers = signed(genuine_payload | {"order_description": "x" * 66_000})
    ct = ("Content-Type", "application/json")

    def body_bit_flip() -> Forgery:
        return "body bit flip", _flip_bit(genuine, rng), [ct, ("x-nowpayments-sig", signature)]

    def signature_bit_flip() -> Forgery:
        raw = _flip_bit(bytes.fromhex(signature), rng)
        return "signature bit flip", genuine, [ct, ("x-nowpayments-sig", raw.hex())]

    def wrong_key() -> Forgery:
        payload = genuine_payload | {"payment_id": rng.randrange(10**9, 10**10)}
        body, forged = signed(payload, WRONG_SECRET)
        return "wrong key", body, [ct, ("x-nowpayments-sig", forged["x-nowpayments-sig"])]

    def truncated() -> Forgery:
        return (
            "truncated signature",
            genuine,
            [ct, ("x-nowpayments-sig", signature[: rng.randrange(128)])],
        )

    def upper_case_over_tampered_body() -> Forgery:
        return (
            "upper-cased signature, tampered body",
            tampered,
            [ct, ("x-nowpayments-sig", signature.upper())],
        )

    def reordered_and_tampered() -> Forgery:
        body = js_json(_shuffled(tampered_payload, rng)).encode()
        return "reordered keys, tampered", body, [ct, ("x-nowpayments-sig", signature)]

    def signed_without_sorting() -> Forgery:
        # The right key over the wrong form: the provider signs the key-sorted body.
        body = js_json(_shuffled(genuine_payload, rng)).encode()
        return "signed unsorted", body, [ct, ("x-nowpayments-sig", _hmac(IPN_SECRET, body))]

    def junk_headers() -> Forgery:
        junk = rng.choice(
            ["", "null", "0" * 127 + "g", "sha512=" + signature, " ", "\t" + "f" * 129]
        )
        extra = [(f"X-Junk-{i}", "".join(rng.choices("abc;=,\"' ", k=12))) for i in range(3)]
        return "junk headers", genuine, [ct, ("x-nowpayments-sig", junk), *extra]

    def duplicate_signatures() -> Forgery:
        headers = [ct, ("x-nowpayments-sig", signature), ("X-NowPayments-Sig", waiting_signature)]
        return "two signature headers", genuine, headers

    def swapped_signature() -> Forgery:
        return (
            "another notification's signature",
            genuine,
            [ct, ("x-nowpayments-sig", waiting_signature)],
        )

    def missing_signature() -> Forgery:
        return "no signature", genuine, [ct]

    def trailing_garbage() -> Forgery:
        return "trailing data", genuine + b" x", [ct, ("x-nowpayments-sig", signature)]

    def byte_order_mark() -> Forgery:
        return "byte-order mark", b"\xef\xbb\xbf" + genuine, [ct, ("x-nowpayments-sig", signature)]

    def too_large() -> Forgery:
        return (
            "oversized, signed",
            oversized,
            [ct, ("x-nowpayments-sig", oversized_headers["x-nowpayments-sig"])],
        )

    kinds: list[Callable[[], Forgery]] = [
        body_bit_flip,
        signature_bit_flip,
        wrong_key,
        truncated,
        upper_case_over_tampered_body,
        reordered_and_tampered,
        signed_without_sorting,
        junk_headers,
        duplicate_signatures,
        swapped_signature,
        missing_signature,
        trailing_garbage,
        byte_order_mark,
    ]
    for index in range(FORGERIES):
        # One in a hundred is oversized: enough to prove the cap, cheap to send.
        yield too_large() if index % 100 == 99 else kinds[index % len(kinds)]()


async def post(client: Client, body: bytes, headers: list[tuple[str, str]]) -> int:
    response = await client.post(URL, data=body, headers=headers)
    await response.read()
    return response.status


async def test_ten_thousand_forged_notifications_are_all_refused_without_a_server_error(
    shop: Shop, gateway: NowPaymentsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="adapters.inbound.http")
    invoice = await shop.order(USER)
    statuses: Counter[tuple[str, int]] = Counter()
    attempts = list(forgeries(shop, invoice, random.Random(20260301)))
    async with serve(build_app(make_deps(shop, gateway))) as client:
        for start in range(0, len(attempts), BATCH):
            batch = attempts[start : start + BATCH]
            answers = await asyncio.gather(*(post(client, body, h) for _, body, h in batch))
            statuses.update(
                (kind, status) for (kind, _, _), status in zip(batch, answers, strict=True)
            )

        refused_store = (await shop.event_count(invoice), await shop.subscriptions(USER))
        body, headers = signed(shop.payload(invoice, "finished", payment_id=9_000_001))
        genuine = await client.post(URL, data=body, headers=headers)
        genuine_outcome = (await genuine.json())["outcome"]

    assert sum(statuses.values()) == FORGERIES
    assert len({kind for kind, _ in statuses}) == 14  # every kind of forgery was tried
    by_status = Counter(status for (_, status) in statuses.elements())
    assert set(by_status) == {401, 413}, statuses
    assert by_status[413] == FORGERIES // 100
    assert refused_store == (0, [])
    assert (genuine.status, genuine_outcome) == (200, "granted")
    assert len(await shop.invites()) == 1


@asynccontextmanager
async def memory_store() -> AsyncIterator[UnitOfWorkFactory]:
    yield InMemoryUnitOfWorkFactory()


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[UnitOfWorkFactory]:
    async with sqlite_backend() as uow:
        yield uow


@asynccontextmanager
async def postgres_store() -> AsyncIterator[UnitOfWorkFactory]:
    async with postgres_backend(pool_size=10, max_overflow=10) as uow:
        yield uow


STORES = {
    "memory": memory_store,
    "sqlite": sqlite_store,
    "postgres": pytest.param(postgres_store, marks=pytest.mark.postgres),
}


@pytest.mark.parametrize("store", list(STORES.values()), ids=list(STORES))
async def test_fifty_concurrent_copies_of_a_paying_notification_grant_exactly_once(
    store: Callable[[], AbstractAsyncContextManager[UnitOfWorkFactory]], gateway: NowPaymentsGateway
) -> None:
    async with store() as uow:
        shop = build_shop(uow)
        invoice = await shop.order(USER)
        waiting, waiting_headers = signed(shop.payload(invoice, "waiting", payment_id=31))
        body, headers = signed(shop.payload(invoice, "finished", payment_id=31))
        async with serve(build_app(make_deps(shop, gateway))) as client:
            assert (await client.post(URL, data=waiting, headers=waiting_headers)).status == 200
            responses = await asyncio.gather(
                *(client.post(URL, data=body, headers=headers) for _ in range(COPIES))
            )
            first = [(r.status, (await r.json()).get("outcome")) for r in responses]
            granted = await shop.subscriptions(USER)
            # The provider resends whatever was not answered 2xx; then replays of all.
            retried = [
                await post(client, body, list(headers.items())) for s, _ in first if s != 200
            ]
            replays = [await post(client, body, list(headers.items())) for _ in range(5)]
            after = await shop.subscriptions(USER)
            invites = await shop.invites()

    outcomes = Counter(outcome for status, outcome in first if status == 200)
    assert {status for status, _ in first} <= {200, 503}
    assert outcomes[str(EventOutcome.GRANTED)] == 1
    assert set(outcomes) <= {str(EventOutcome.GRANTED), str(EventOutcome.DUPLICATE)}
    assert retried == [200] * len(retried)
    assert replays == [200] * 5
    assert len(granted) == 1 and granted[0].period == 1
    assert after == granted
    assert len(invites) == 1
