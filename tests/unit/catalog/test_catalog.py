"""The catalog: an entry for every kind of notice, the words people read, and notices
that survive the outbox (rows written in words by an older release included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.catalog.message import Button, OutgoingMessage
from adapters.catalog.notices import render
from core.domain.channel import MAX_TITLE
from core.domain.ids import ChatId
from core.domain.messages import (
    NOTICE_KINDS,
    ChannelReclaimed,
    Checkout,
    CheckoutWithBot,
    DecideSeller,
    Digest,
    DonateInvitation,
    DonationRefunded,
    DonationThanks,
    Ended,
    Invite,
    JoinDeclined,
    Notice,
    Offer,
    OfferedTier,
    OpenLink,
    OwnerDonation,
    OwnerPayment,
    OwnerRefund,
    PartialPayment,
    PausedSales,
    Refunded,
    Reminder,
    Renewed,
    ResumedSales,
    SellerApproved,
    SellerAsked,
    SellerDeclined,
    Verbatim,
    VerbatimButton,
    notice_from_payload,
    notice_to_payload,
)
from core.domain.money import Money
from core.domain.outbox import EffectKind, SendMessage, effect_from_payload, effect_to_payload
from core.domain.tier import Tier
from core.services import notices
from tests.unit.services.world import OWNER, build

TITLE = "Alpha Signals"
LONGEST_TITLE = "T" * MAX_TITLE
ENDS = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
PRICE = Money.of("10", "USD")
PAID = Money.of("0.000123456789", "BTC")
USER = 7_000_000_001


def owner_notices(title: str) -> list[Notice]:
    """The notices that fold into an owner's digest, each at its longest."""
    return [
        OwnerPayment(title, USER, 3660, PRICE, PAID, renewal=False),
        OwnerPayment(title, USER, 1, PRICE, None, renewal=True),
        OwnerDonation(title, USER, PRICE, PAID),
        OwnerRefund(title, USER, PRICE, ENDS, donation=False),
        OwnerRefund(title, USER, PRICE, None, donation=False),
        OwnerRefund(title, USER, PRICE, None, donation=True),
    ]


EXAMPLES: list[Notice] = [
    Offer(
        TITLE,
        (
            OfferedTier(Tier(1, PRICE, 30), CheckoutWithBot("PayGateBot", "tok1")),
            OfferedTier(Tier(2, Money.of("25", "USD"), 90), CheckoutWithBot("PayGateBot", "tok2")),
        ),
    ),
    DonateInvitation(TITLE, CheckoutWithBot("PayGateBot", "tok0")),
    Invite(TITLE, ENDS, OpenLink("https://t.me/+abc")),
    Renewed(TITLE, ENDS),
    Reminder(TITLE, ENDS, Checkout("tok1")),
    Ended(TITLE, Checkout("tok1")),
    JoinDeclined(TITLE),
    DonationThanks(TITLE, PRICE),
    Refunded(TITLE, PRICE, ENDS),
    Refunded(TITLE, PRICE, None),
    DonationRefunded(TITLE, PRICE),
    PartialPayment(TITLE, PRICE, Money.of("4", "USD"), OpenLink("https://pay.test/1"), False),
    PartialPayment(TITLE, None, PAID, None, True),
    PartialPayment(TITLE, None, None, None, False),
    *owner_notices(TITLE),
    PausedSales(TITLE, "the bot cannot post there"),
    ResumedSales(TITLE),
    ChannelReclaimed(TITLE),
    SellerAsked(USER, "Ada Lovelace @ada", DecideSeller(USER, True), DecideSeller(USER, False)),
    SellerApproved(),
    SellerDeclined(),
    Digest((Renewed(TITLE, ENDS), Verbatim("written earlier")), ENDS),
    Verbatim("hi ✓", ((VerbatimButton("Renew", callback_data="o:tok1"),),)),
]


def test_every_kind_of_notice_has_a_catalog_entry() -> None:
    assert {type(n) for n in EXAMPLES} == set(NOTICE_KINDS)
    for notice in EXAMPLES:
        message = render(notice)
        assert message.text.strip()
        assert len(message.text) <= 4096


@pytest.mark.parametrize("notice", EXAMPLES, ids=lambda n: type(n).__name__)
def test_a_notice_survives_the_outbox(notice: Notice) -> None:
    effect = SendMessage(ChatId(5), notice, fold=notices.OWNER_FOLD)
    stored = json.loads(json.dumps(effect_to_payload(effect)))
    assert notice_from_payload(json.loads(json.dumps(notice_to_payload(notice)))) == notice
    assert effect_from_payload(effect.kind, stored) == effect


def test_a_reminder_reads_as_before_and_its_button_renews() -> None:
    assert render(Reminder(TITLE, ENDS, Checkout("tok1"))) == OutgoingMessage(
        "Your subscription to Alpha Signals ends on 2026-04-01 09:30 UTC. "
        "Renew to keep your access.",
        ((Button("Renew", callback_data="o:tok1"),),),
    )


def test_an_offer_links_each_tier_to_a_checkout_in_the_bots_chat() -> None:
    shown = render(EXAMPLES[0])
    assert shown.text == (
        "Subscribe to Alpha Signals\n\n• 30 days — 10 USD\n• 90 days — 25 USD\n\n"
        "Tap a tier to pay with crypto. You get your invite link right after."
    )
    assert shown.buttons == (
        (Button("30 days — 10 USD", url="https://t.me/PayGateBot?start=tok1"),),
        (Button("90 days — 25 USD", url="https://t.me/PayGateBot?start=tok2"),),
    )


def test_an_offer_with_a_stars_price_says_stars_are_taken_too() -> None:
    stars = Tier(1, PRICE, 30, Money.of(500, "XTR"))
    shown = render(Offer(TITLE, (OfferedTier(stars, CheckoutWithBot("PayGateBot", "tok1")),)))

    assert shown.text == (
        "Subscribe to Alpha Signals\n\n• 30 days — 10 USD or 500 XTR\n\n"
        "Tap a tier to pay with crypto or Telegram Stars. You get your invite link right after."
    )


def test_a_digest_shows_each_notice_as_it_reads_alone() -> None:
    folded = owner_notices(TITLE)
    text = render(notices.digest_message(folded, ENDS)).text
    assert text.splitlines()[:2] == ["6 updates since 2026-04-01 09:30 UTC:", ""]
    assert text.splitlines()[2:] == [f"• {render(n).text}" for n in folded]


@pytest.mark.parametrize("title", [TITLE, LONGEST_TITLE])
def test_a_folded_notice_never_reads_longer_than_its_weight(title: str) -> None:
    """The core budgets digests by weight: a digest it lets through fits Telegram."""
    for notice in owner_notices(title):
        assert len(render(notice).text) <= notices.weight(notice)


def test_a_full_digest_of_the_longest_notices_fits_telegrams_limit() -> None:
    longest = max(owner_notices(LONGEST_TITLE), key=lambda n: len(render(n).text))
    folded: list[Notice] = []
    while notices.digest_room(folded, longest):
        folded.append(longest)
    assert len(folded) > 10
    assert len(render(notices.digest_message(folded, ENDS)).text) <= 4096


def test_a_button_has_exactly_one_action() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Button("x")
    with pytest.raises(ValueError, match="64 bytes"):
        Button("x", callback_data="y" * 65)


OLD_ROW = {
    "chat_id": OWNER,
    "text": "Your subscription to Alpha Signals ends on 2026-04-01 09:30 UTC.",
    "buttons": [[{"text": "Renew", "url": None, "callback_data": "o:tok1"}]],
    "fold": "owner",
}
"""A message queued in words by a release before notices were typed."""


def test_a_row_queued_in_words_by_an_older_release_is_read_as_written() -> None:
    effect = effect_from_payload(EffectKind.SEND_MESSAGE, json.loads(json.dumps(OLD_ROW)))
    assert isinstance(effect, SendMessage)
    assert (effect.chat_id, effect.fold) == (ChatId(OWNER), "owner")
    assert render(effect.message) == OutgoingMessage(
        OLD_ROW["text"],  # type: ignore[arg-type]
        ((Button("Renew", callback_data="o:tok1"),),),
    )


async def test_a_row_queued_in_words_by_an_older_release_is_delivered() -> None:
    world = build()
    effect = effect_from_payload(EffectKind.SEND_MESSAGE, json.loads(json.dumps(OLD_ROW)))
    async with world.uow() as tx:
        await tx.outbox.enqueue("old-row", effect, world.clock.now())
        await tx.commit()

    await world.drain()

    (sent,) = [m for m in world.messenger.sent if m.chat_id == ChatId(OWNER)]
    assert sent.message.text == OLD_ROW["text"]
    assert [b.callback_data for row in sent.message.buttons for b in row] == ["o:tok1"]


def test_an_operator_approves_or_declines_a_seller_with_the_buttons_of_the_request() -> None:
    asked = SellerAsked(USER, "Ada @ada", DecideSeller(USER, True), DecideSeller(USER, False))
    shown = render(asked)
    assert shown.text.startswith(f"Ada @ada (Telegram user {USER}) asks to sell channels here.")
    assert shown.buttons == (
        (
            Button("Approve", callback_data=f"sa:{USER}"),
            Button("Decline", callback_data=f"sd:{USER}"),
        ),
    )
