"""Bundles over real processes (issue 21): a ``web`` and two ``worker`` processes on
one Postgres database sell a bundle of three closed channels; every subscriber gets
into all three, renews, is reminded once, and at the end is removed from each of the
three exactly once.

The owner's channels are registered and bundled through the use cases (what /register
and /bundle call); the payments go through the NowPayments emulator to the web
process; the join requests reach the web process through Telegram's webhook; the
workers grant, approve, remind and remove through the Telegram emulator. Time
moves through the shared clock file.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.outbound.sqla import tables as t
from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from sandbox.nowpayments.emulator import PayPlan
from sandbox.telegram.world import JoinOutcome
from tests.e2e.shop import CHAT_BASE, OWNER_BASE, TERM, TIER, Kind, Sent, Shop, open_shop
from tests.services import require_postgres

SUBSCRIBERS = 3
STRANGER = 63_000_000
WEBHOOK_SECRET = "hook-secret-" + "b" * 24
TITLES = ("Alpha", "Beta VIP", "Gamma VIP")


async def bundle_of_three(shop: Shop) -> list[Channel]:
    """One owner's three channel pairs; the first (home) bundles the other two, and is
    the channel every subscriber of the shop buys."""
    services = shop.seller.services
    owner = OWNER_BASE
    shop.telegram.add_user(owner, "Owner")
    channels = []
    for i, title in enumerate(TITLES):
        open_chat, closed_chat = CHAT_BASE - 2 * i, CHAT_BASE - 2 * i - 1
        shop.telegram.add_chat(open_chat, "channel", title, creator_id=owner)
        shop.telegram.add_chat(closed_chat, "channel", f"{title} room", creator_id=owner)
        channel = await services.register_channel.execute(
            UserId(owner), ChatId(open_chat), ChatId(closed_chat), title
        )
        channels.append(await services.set_tiers.execute(UserId(owner), channel.id, (TIER,)))
    home, *others = channels
    await services.manage_bundle.add(UserId(owner), home.id, [c.id for c in others])
    shop.channels.append(home)  # what the shop's subscribers buy
    return channels


def open_every_link(shop: Shop, users: list[int]) -> list[tuple[int, int]]:
    """Each subscriber opens every link they were sent: a join request the web process
    hears through Telegram's webhook. Returns the (chat, user) of each request."""
    asked = []
    for sent in shop.sent_to_users():
        if sent.kind is not Kind.INVITE or sent.link is None:
            continue
        assert sent.chat_id in users
        outcome = shop.telegram.user_opens_link(sent.chat_id, sent.link)
        assert outcome is JoinOutcome.REQUESTED, (sent.chat_id, sent.link, outcome)
        chat = next(c for c in shop.telegram.chats.values() if sent.link in c.links)
        asked.append((chat.id, sent.chat_id))
    return asked


async def until(check: Callable[[], bool], what: str, shop: Shop, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{shop.fleet.logs()}"
        await asyncio.sleep(0.2)


async def reminded(shop: Shop, count: int, within: float = 60.0) -> list[Sent]:
    """The reminders sent, once ``count`` went out and nothing is pending (a bundle's
    reminder ends with what it includes, so it is found by its first sentence)."""
    deadline = time.monotonic() + within
    while True:
        found = [s for s in shop.sent_to_users() if " ends on " in s.text]
        if len(found) >= count and await shop.pending() == 0:
            return found
        assert time.monotonic() < deadline, f"{len(found)} reminders\n{shop.fleet.logs()}"
        await asyncio.sleep(0.2)


def links_of(shop: Shop) -> list[tuple[int, str]]:
    """(closed chat, URL) of every invite link sent to a subscriber."""
    found = []
    for sent in shop.sent_to_users():
        if sent.kind is Kind.INVITE and sent.link is not None:
            chat = next(c for c in shop.telegram.chats.values() if sent.link in c.links)
            found.append((chat.id, sent.link))
    return found


def declined(shop: Shop, chat: int, user: int) -> bool:
    return any(
        int(c.params["chat_id"]) == chat and int(c.params["user_id"]) == user
        for c in shop.calls("declineChatJoinRequest")
    )


def member_of(shop: Shop, chat: int, user: int) -> bool:
    return str(shop.telegram.status_of(chat, user)) == "member"


@pytest.mark.postgres
async def test_a_bundle_bought_renewed_and_ended_over_real_processes(tmp_path: Path) -> None:
    require_postgres()
    webhook = {"PAYGATE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
    async with open_shop(
        tmp_path, web=1, workers=2, ipn_retries=10, ipn_retry_delay=0.2, env=webhook
    ) as shop:
        channels = await bundle_of_three(shop)
        closed = [c.closed_chat_id for c in channels]
        users = shop.add_subscribers(SUBSCRIBERS)
        await shop.start_fleet()

        def plan(_: int) -> PayPlan:
            return PayPlan(statuses=("finished",))

        await shop.buy_all(users, plan)
        await shop.drained("bundle grants", {Kind.INVITE: 3 * SUBSCRIBERS})
        asked = open_every_link(shop, users)
        assert sorted(asked) == sorted((chat, u) for chat in closed for u in users)
        await until(
            lambda: all(member_of(shop, chat, u) for chat in closed for u in users),
            "every subscriber let into every chat",
            shop,
        )
        # A link passed on to someone without the bundle lets nobody in.
        shop.telegram.add_user(STRANGER, "Stranger")
        beta_link = next(link for chat, link in links_of(shop) if chat == closed[1])
        assert shop.telegram.user_opens_link(STRANGER, beta_link) is JoinOutcome.REQUESTED
        await until(lambda: declined(shop, closed[1], STRANGER), "the stranger declined", shop)
        assert not member_of(shop, closed[1], STRANGER)

        await shop.buy_all(users, plan)  # renewed while active: one longer term
        await shop.drained("renewals", {Kind.RENEWED: SUBSCRIBERS})

        shop.move_clock(2 * TERM - timedelta(hours=2))
        reminders = await reminded(shop, SUBSCRIBERS)
        assert Counter(s.chat_id for s in reminders) == dict.fromkeys(users, 1)
        assert all("Includes: Beta VIP, Gamma VIP" in s.text for s in reminders), reminders

        shop.move_clock(2 * TERM + timedelta(hours=1))
        await shop.drained("removals", {Kind.ENDED: SUBSCRIBERS})
        removed = Counter(
            (int(c.params["chat_id"]), int(c.params["user_id"])) for c in shop.removals()
        )
        assert removed == {(chat, user): 1 for chat in closed for user in users}
        assert not any(member_of(shop, chat, u) for chat in closed for u in users)

        codes = await shop.fleet.stop_all()
        assert codes == {p.name: 0 for p in shop.fleet.processes}, shop.fleet.logs()

        sent = Counter(s.kind for s in shop.sent_to_users())
        assert sent[Kind.INVITE] == 3 * SUBSCRIBERS, "each chat granted once"
        assert len(await shop.rows(t.access_grants)) == SUBSCRIBERS
        assert len(await shop.rows(t.bundle_grants)) == 2 * SUBSCRIBERS
        assert set(await shop.outbox_by_status()) == {"done"}
        assert await shop.audit_chain_holds()
