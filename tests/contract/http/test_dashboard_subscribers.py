"""The dashboard's Subscribers section over a real socket: finding subscribers (by
id, @username, status, channel; keyset pages), one subscriber's record, and the
actions by hand (grant, revoke, resend) with the bot's messages they cause; every
route tried as another owner (404, no IDOR) and as the operator (looks, acts on
nothing), a POST without the CSRF token and one without a reason refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import attrs
import pytest

from adapters.inbound.http.app import build_app
from adapters.inbound.http.dashboard import Dashboard, DashboardSettings
from adapters.inbound.http.dashboard.subscribers import SubscribersSection
from adapters.outbound.memory import InMemoryNonceStore, InMemoryStore, InMemoryUnitOfWorkFactory
from adapters.outbound.memory.chat_access import ChatAction, ChatCall
from adapters.outbound.memory.dashboard import InMemoryChannelFigures, InMemorySessionStore
from adapters.outbound.memory.subscriber_directory import (
    InMemoryPersonNames,
    InMemorySubscriberDirectory,
)
from adapters.outbound.system.clock import SystemClock
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.channel import Channel
from core.domain.ids import ChatId, SubscriptionId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, ChatRights, MemberStatus
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.payment_ledger import PaymentChanges
from core.services.dashboard import OwnerDashboard
from core.services.dashboard_sessions import DashboardSessions
from core.services.dashboard_subscriber_actions import SubscriberActions
from core.services.dashboard_subscribers import PAGE_SIZE, SubscriberSearch
from tests.contract.http.shop import Client, build_shop, make_deps, nowpayments_gateway, serve
from tests.contract.http.test_dashboard import BOT_TOKEN, link
from tests.unit.services.world import CLOSED, KEYRING, OWNER, World, build

PAYER = UserId(5001)
OPERATOR = UserId(9999)
OTHER_OWNER = UserId(2000)
OTHER_OPEN, OTHER_CLOSED = ChatId(-2001), ChatId(-2002)


@attrs.frozen
class Site:
    client: Client
    world: World
    names: InMemoryPersonNames
    channel: Channel
    other: Channel

    async def login(self, user: int) -> None:
        answer = await self.client.get(link(user), allow_redirects=False)
        assert answer.status == 303, await answer.text()

    async def csrf(self) -> str:
        page = await (await self.client.get("/dashboard/channels")).text()
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        return found.group(1)

    async def text(self, path: str, status: int = 200) -> str:
        answer = await self.client.get(path)
        body = await answer.text()
        assert answer.status == status, body
        return body

    async def post(self, path: str, **form: str) -> tuple[int, str]:
        answer = await self.client.post(path, data=form)
        return answer.status, await answer.text()

    async def subscription(self, user: UserId, channel: Channel) -> Subscription | None:
        async with self.world.uow() as tx:
            return await tx.subscriptions.find(user, channel.id)

    async def texts_sent_to(self, user: UserId) -> list[str]:
        await self.world.drain()
        return [m.message.text for m in self.world.messenger.sent if m.chat_id == ChatId(user)]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    store = InMemoryStore()
    world = build(uow=InMemoryUnitOfWorkFactory(store))
    channel = await world.channel()
    for chat in (OTHER_OPEN, OTHER_CLOSED):
        world.chat.add_chat(chat, ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_CLOSED))
        world.chat.set_member(chat, OTHER_OWNER, ChatRights(MemberStatus.CREATOR))
    other = await world.register.execute(OTHER_OWNER, OTHER_OPEN, OTHER_CLOSED, "Beta Club")
    names = InMemoryPersonNames()
    clock = SystemClock()  # login links are signed with the real time
    owners = OwnerDashboard(
        world.uow,
        clock,
        InMemoryChannelFigures(store),
        world.sales,
        world.resume_sales,
        frozenset({OPERATOR}),
    )
    section = SubscribersSection(
        SubscriberSearch(world.uow, owners, InMemorySubscriberDirectory(store, names), names),
        SubscriberActions(world.uow, world.clock, RandomIdGenerator(), KEYRING, owners),
    )
    dashboard = Dashboard(
        owners,
        DashboardSessions(InMemorySessionStore(clock), clock, RandomIdGenerator()),
        InMemoryNonceStore(clock),
        clock,
        DashboardSettings((BOT_TOKEN,), secure_cookie=False),
        (section,),
    )
    async with nowpayments_gateway() as gateway:
        deps = attrs.evolve(make_deps(build_shop(world.uow), gateway), dashboard=dashboard)
        async with serve(build_app(deps)) as client:
            yield Site(client, world, names, channel, other)


async def paid(site: Site, user: UserId = PAYER) -> None:
    await site.world.pay(await site.world.checkout.execute(user, site.channel.id, 1))
    await site.world.drain()


def one(site: Site, user: UserId = PAYER, channel: Channel | None = None) -> str:
    return f"/dashboard/subscribers/{(channel or site.channel).id}/{user}"


# ---------------------------------------------------------------- finding


async def test_the_owner_finds_a_payer_by_id_and_by_username(site: Site) -> None:
    await paid(site)
    await site.names.note(PAYER, "Pay_Er")
    await site.login(OWNER)

    listed = await site.text("/dashboard/subscribers")
    by_id = await site.text(f"/dashboard/subscribers?q={PAYER}")
    by_name = await site.text("/dashboard/subscribers?q=%40pay_er")
    nobody = await site.text("/dashboard/subscribers?q=%40someone_else")

    for page in (listed, by_id, by_name):
        assert f'data-user="{PAYER}"' in page and "@pay_er" in page and "Alpha Signals" in page
    assert f'data-user="{PAYER}"' not in nobody and "No subscribers found." in nobody


async def test_status_and_channel_filters(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)

    active = await site.text(f"/dashboard/subscribers?status=active&channel={site.channel.id}")
    revoked = await site.text("/dashboard/subscribers?status=revoked")

    assert f'data-user="{PAYER}"' in active
    assert f'data-user="{PAYER}"' not in revoked


async def test_pages_follow_the_next_link_without_offset(site: Site) -> None:
    start = site.world.clock.now()
    subs = [
        Subscription.start(
            SubscriptionId(f"bulk{n:04d}"),
            UserId(700_000 + n),
            site.channel.id,
            1,
            timedelta(days=1 + n),
            start,
        )
        for n in range(PAGE_SIZE + 5)
    ]
    async with site.world.uow() as tx:
        await tx.payments.save(PaymentChanges(new_subscriptions=subs), start)
        await tx.commit()
    await site.login(OWNER)

    first = await site.text("/dashboard/subscribers")
    found = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert found is not None and "offset" not in found.group(1)
    second = await site.text(found.group(1).replace("&amp;", "&"))

    seen = re.findall(r'data-user="(\d+)"', first) + re.findall(r'data-user="(\d+)"', second)
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 5
    assert seen[0] == str(700_000 + PAGE_SIZE + 4)  # the latest end first
    assert 'rel="next"' not in second


async def test_a_search_that_is_neither_an_id_nor_a_username_is_a_400(site: Site) -> None:
    await site.login(OWNER)
    await site.text("/dashboard/subscribers?q=not%20a%20name", status=400)
    await site.text("/dashboard/subscribers?after=garbage", status=400)
    await site.text("/dashboard/subscribers?status=happy", status=400)
    await site.text("/dashboard/subscribers?q=99999999999999999999", status=400)
    await site.text(f"/dashboard/subscribers/{site.channel.id}/9999999999999999999", status=400)


async def test_a_subscriber_s_record_shows_payments_grants_and_audit(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)

    page = await site.text(one(site))

    assert "finished" in page  # the payment's status
    assert "link_issued" in page  # the grant
    assert "subscription.started" in page and "grant.issued" in page
    assert "Grant or extend" in page and "Revoke now" in page and "Send the link again" in page


async def test_a_person_without_a_subscription_is_found_by_name_to_grant_them_days(
    site: Site,
) -> None:
    newcomer = UserId(6002)
    await site.names.note(newcomer, "new_comer")
    await site.login(OWNER)

    searched = await site.text("/dashboard/subscribers?q=new_comer")
    record = await site.text(one(site, newcomer))

    assert f'data-user="{newcomer}"' not in searched  # no subscription row
    assert f'href="{one(site, newcomer)}"' in searched
    assert "No subscription." in record and "@new_comer" in record
    assert "Grant or extend" in record and "Revoke now" not in record


# ---------------------------------------------------------------- acting


async def test_a_grant_by_hand_to_a_newcomer_sends_the_bot_s_access_message(site: Site) -> None:
    newcomer = UserId(6001)
    await site.login(OWNER)

    status, _ = await site.post(
        one(site, newcomer) + "/grant", csrf=await site.csrf(), days="7", reason="giveaway"
    )

    assert status == 200  # followed the 303 to the record
    sub = await site.subscription(newcomer, site.channel)
    assert sub is not None and sub.expires_at == site.world.clock.now() + timedelta(days=7)
    sent = await site.texts_sent_to(newcomer)
    assert any("link is yours" in text for text in sent), sent
    page = await site.text(one(site, newcomer))
    assert "subscription.comp" in page and "giveaway" in page and f"user:{OWNER}" in page


async def test_a_grant_extends_an_active_subscription_and_sends_the_link(site: Site) -> None:
    await paid(site)
    before = await site.subscription(PAYER, site.channel)
    assert before is not None
    await site.login(OWNER)
    sent_before = len(await site.texts_sent_to(PAYER))

    status, _ = await site.post(
        one(site) + "/grant", csrf=await site.csrf(), days="10", reason="sorry for the outage"
    )

    assert status == 200
    after = await site.subscription(PAYER, site.channel)
    assert after is not None and after.expires_at == before.expires_at + timedelta(days=10)
    assert after.period == before.period  # no new period: the same grant, its link moved
    sent = (await site.texts_sent_to(PAYER))[sent_before:]
    assert len(sent) == 1 and "link is yours" in sent[0]


async def test_revoking_removes_the_member_and_says_goodbye(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)

    status, _ = await site.post(one(site) + "/revoke", csrf=await site.csrf(), reason="abuse")

    assert status == 200
    sub = await site.subscription(PAYER, site.channel)
    assert sub is not None and sub.status is SubscriptionStatus.REVOKED
    await site.world.drain()
    assert ChatCall(ChatAction.REMOVE, CLOSED, PAYER) in site.world.chat.calls
    record = await site.text(one(site))
    assert "subscription.revoked" in record
    removals = record.split('class="removals"')[1].split("</section>")[0]
    assert "<code>done</code>" in removals  # the removal, performed
    # The goodbye carries the Renew button of their tier.
    goodbye = [m for m in site.world.messenger.sent if m.chat_id == ChatId(PAYER)][-1]
    assert "has ended" in goodbye.message.text and goodbye.message.buttons


async def test_resending_the_link_sends_it_again(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)
    sent_before = len(await site.texts_sent_to(PAYER))

    status, _ = await site.post(one(site) + "/resend", csrf=await site.csrf(), reason="lost it")

    assert status == 200
    sent = (await site.texts_sent_to(PAYER))[sent_before:]
    assert len(sent) == 1 and "link is yours" in sent[0]


async def test_an_action_without_a_reason_is_refused_and_changes_nothing(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)
    token = await site.csrf()

    for action, form in (("grant", {"days": "5"}), ("revoke", {}), ("resend", {})):
        status, _ = await site.post(one(site) + f"/{action}", csrf=token, reason="  ", **form)
        assert status == 400
    bad_days, _ = await site.post(one(site) + "/grant", csrf=token, days="-3", reason="x")
    assert bad_days == 400
    sub = await site.subscription(PAYER, site.channel)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE and sub.period == 1


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)

    for action in ("grant", "revoke", "resend"):
        status, _ = await site.post(one(site) + f"/{action}", days="5", reason="no token")
        assert status == 403
    sub = await site.subscription(PAYER, site.channel)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE and sub.period == 1


# ---------------------------------------------------------------- who may


async def test_another_owner_finds_nothing_of_the_channel_and_changes_nothing(
    site: Site,
) -> None:
    await paid(site)
    await site.login(OTHER_OWNER)
    token = await site.csrf()

    listed = await site.text("/dashboard/subscribers")
    assert f'data-user="{PAYER}"' not in listed and "Alpha Signals" not in listed
    searched = await site.text(f"/dashboard/subscribers?q={PAYER}")
    assert f'data-user="{PAYER}"' not in searched
    await site.text(f"/dashboard/subscribers?channel={site.channel.id}", status=404)
    await site.text(one(site), status=404)
    # In their own channel the payer is nobody: nothing of the other channel shows.
    own = await site.text(one(site, channel=site.other))
    assert "No subscription." in own and "No payments." in own and "Alpha Signals" not in own
    for action in ("grant", "revoke", "resend"):
        status, _ = await site.post(one(site) + f"/{action}", csrf=token, days="5", reason="x")
        assert status == 404
    sub = await site.subscription(PAYER, site.channel)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE and sub.period == 1


async def test_the_operator_sees_every_subscriber_but_acts_on_none(site: Site) -> None:
    await paid(site)
    await site.login(OPERATOR)
    token = await site.csrf()

    assert f'data-user="{PAYER}"' in await site.text("/dashboard/subscribers")
    record = await site.text(one(site))
    assert "link_issued" in record and "Revoke now" not in record
    for action in ("grant", "revoke", "resend"):
        status, _ = await site.post(one(site) + f"/{action}", csrf=token, days="5", reason="x")
        assert status == 403
    sub = await site.subscription(PAYER, site.channel)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE and sub.period == 1


async def test_the_pages_keep_the_strict_csp(site: Site) -> None:
    await paid(site)
    await site.login(OWNER)
    for path in ("/dashboard/subscribers", one(site)):
        answer = await site.client.get(path)
        text = await answer.text()
        nonce = re.search(r"'nonce-([^']+)'", answer.headers["Content-Security-Policy"])
        assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in text
        assert "<script" not in text and " style=" not in text
