"""The offer and Donate posts follow the channel's state: taken down when nothing is
for sale there, posted again when it is, refreshed in place and re-posted when
someone deleted them. What is checked is what members see in the chats and what the
store keeps as standing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.outbound.memory.messenger import InMemoryMessenger, PostedMessage
from core.domain.channel import Channel, DonationBounds
from core.domain.ids import ChatId, MessageId
from core.domain.messages import Notice
from core.domain.signing import MacKeyring
from core.domain.tier import Tier
from core.ports.telegram import NotEnoughRights
from core.services.broadcasts import (
    BroadcastSettings,
    DownReason,
    PlanBroadcasts,
    PostKind,
    StaleReason,
)
from core.services.publish_posts import PublishPosts, PublishReport
from tests.unit.services.world import CLOSED, KEYRING, OPEN, OWNER, World, usd

HOUR = timedelta(hours=1)


def offers(world: World) -> list[PostedMessage]:
    return [m for m in world.messenger.visible(OPEN) if m.message.text.startswith("Subscribe")]


def donates(world: World) -> list[PostedMessage]:
    return [m for m in world.messenger.visible(CLOSED) if "donation" in m.message.text]


def button_urls(posted: PostedMessage) -> list[str]:
    return [b.url or "" for row in posted.message.buttons for b in row]


async def posted_channel(world: World) -> Channel:
    """A selling channel that takes donations, with both posts up."""
    channel = await world.channel()
    assert (await world.publish.run_once()).posted == 2
    assert (len(offers(world)), len(donates(world))) == (1, 1)
    return channel


async def test_setting_no_tiers_takes_the_offer_down_and_leaves_the_donate_post(
    world: World,
) -> None:
    channel = await posted_channel(world)
    offer = offers(world)[0]

    await world.set_tiers.execute(OWNER, channel.id, ())
    report = await world.publish.run_once()

    assert report == PublishReport(taken_down=1)
    assert offers(world) == []
    assert world.messenger.deletions == [(OPEN, offer.message_id)]
    stored = await world.channel_now(channel.id)
    assert stored.offer_post is None
    assert stored.donate_post is not None
    assert len(donates(world)) == 1
    assert "offer.taken_down" in await world.audit_actions()
    assert await world.publish.run_once() == PublishReport()  # nothing left to do


async def test_turning_donations_off_takes_the_donate_post_down(world: World) -> None:
    channel = await posted_channel(world)

    await world.set_donations.execute(OWNER, channel.id, None)
    plan = await world.plan.execute()
    report = await world.publish.run_once()

    assert [(d.kind, d.chat_id, d.reason) for d in plan.take_downs] == [
        (PostKind.DONATE, CLOSED, DownReason.NO_DONATIONS)
    ]
    assert report == PublishReport(taken_down=1)
    assert donates(world) == []
    assert len(offers(world)) == 1
    assert (await world.channel_now(channel.id)).donate_post is None


async def test_paused_sales_take_both_posts_down_and_resuming_posts_them_again(
    world: World,
) -> None:
    channel = await posted_channel(world)
    old_offer, old_donate = offers(world)[0], donates(world)[0]

    await world.sales.pause(OPEN, "the owner paused sales")
    paused = await world.publish.run_once()

    assert paused == PublishReport(taken_down=2)
    assert (offers(world), donates(world)) == ([], [])
    stored = await world.channel_now(channel.id)
    assert (stored.offer_post, stored.donate_post) == (None, None)

    await world.sales.resume(OPEN)
    resumed = await world.publish.run_once()

    assert resumed == PublishReport(posted=2)
    assert [m.message_id for m in offers(world)] != [old_offer.message_id]
    assert [m.message_id for m in donates(world)] != [old_donate.message_id]
    assert (len(offers(world)), len(donates(world))) == (1, 1)


async def test_a_donate_post_someone_deleted_is_found_at_the_next_check_and_posted_again(
    world: World,
) -> None:
    channel = await posted_channel(world)
    deleted = donates(world)[0]
    world.messenger.someone_deletes(CLOSED, deleted.message_id)

    world.clock.advance(HOUR - timedelta(seconds=1))
    assert await world.publish.run_once() == PublishReport()  # not checked yet
    assert donates(world) == []
    world.clock.advance(timedelta(seconds=1))
    report = await world.publish.run_once()

    assert report == PublishReport(posted=1)
    again = donates(world)
    assert len(again) == 1
    assert again[0].message_id != deleted.message_id
    assert again[0].message == deleted.message
    stored = (await world.channel_now(channel.id)).donate_post
    assert stored is not None
    assert (stored.message_id, stored.posted_at) == (again[0].message_id, world.clock.now())


async def test_a_standing_donate_post_is_refreshed_in_place_without_a_new_message(
    world: World,
) -> None:
    channel = await posted_channel(world)
    standing = donates(world)[0]
    sent_before = len(world.messenger.sent)

    world.clock.advance(HOUR)
    first = await world.publish.run_once()
    world.clock.advance(HOUR)
    second = await world.publish.run_once()

    assert (first, second) == (PublishReport(refreshed=1), PublishReport(refreshed=1))
    assert len(world.messenger.sent) == sent_before  # no new post notifies the members
    assert donates(world) == [standing]
    assert [e.message_id for e in world.messenger.edits] == [standing.message_id] * 2
    stored = (await world.channel_now(channel.id)).donate_post
    assert stored is not None
    assert (stored.message_id, stored.posted_at) == (standing.message_id, world.clock.now())


async def test_a_donate_post_takes_a_changed_link_in_place(world: World) -> None:
    """Its text and Donate link depend on the title, the bot and the signing keys: a
    change is carried over by editing the message, not by posting another."""
    await posted_channel(world)
    standing = donates(world)[0]
    renamed = PlanBroadcasts(
        world.uow,
        world.clock,
        MacKeyring((b"rotated-mac-key-0123456789abcdef012", *KEYRING.keys)),
        BroadcastSettings(bot_username="RenamedBot"),
    )
    publish = PublishPosts(
        world.uow, world.clock, renamed, world.record_post, world.sales, world.messenger
    )

    world.clock.advance(HOUR)
    report = await publish.run_once()

    assert report == PublishReport(refreshed=1)
    now_shown = donates(world)
    assert [m.message_id for m in now_shown] == [standing.message_id]
    assert button_urls(now_shown[0])[0].startswith("https://t.me/RenamedBot?start=")
    assert button_urls(now_shown[0]) != button_urls(standing)


async def test_an_offer_someone_deleted_is_posted_again_at_the_next_refresh(
    world: World,
) -> None:
    channel = await posted_channel(world)
    deleted = offers(world)[0]
    world.messenger.someone_deletes(OPEN, deleted.message_id)

    world.clock.advance(timedelta(hours=24))
    plan = await world.plan.execute()
    await world.publish.run_once()

    assert [(p.kind, p.reason) for p in plan.posts if p.kind is PostKind.OFFER] == [
        (PostKind.OFFER, StaleReason.DUE_REFRESH)
    ]
    again = offers(world)
    assert len(again) == 1
    stored = (await world.channel_now(channel.id)).offer_post
    assert stored is not None
    assert stored.message_id == again[0].message_id != deleted.message_id


async def test_an_offer_deleted_while_sales_were_paused_is_back_when_they_resume(
    world: World,
) -> None:
    """The take-down finds it already gone (done); resuming posts it at once, not a
    day later at the next refresh."""
    channel = await posted_channel(world)
    world.messenger.someone_deletes(OPEN, offers(world)[0].message_id)

    await world.sales.pause(OPEN, "the owner paused sales")
    await world.publish.run_once()
    await world.sales.resume(OPEN)
    report = await world.publish.run_once()

    assert report.posted == 2
    assert len(offers(world)) == 1
    stored = (await world.channel_now(channel.id)).offer_post
    assert stored is not None
    assert stored.message_id == offers(world)[0].message_id


async def test_a_take_down_the_chat_refuses_keeps_the_post_on_record_and_is_tried_again(
    world: World,
) -> None:
    channel = await posted_channel(world)
    standing = offers(world)[0]
    await world.sales.pause(OPEN, "the bot lost its rights")
    world.messenger.failures.arm(NotEnoughRights("not enough rights"), 2)

    refused = await world.publish.run_once()

    assert refused == PublishReport(kept=2)
    assert offers(world) == [standing]
    stored = await world.channel_now(channel.id)
    assert stored.offer_post is not None
    assert stored.offer_post.message_id == standing.message_id
    assert stored.donate_post is not None

    assert await world.publish.run_once() == PublishReport(taken_down=2)
    assert (offers(world), donates(world)) == ([], [])


async def test_a_take_down_no_longer_wanted_when_its_turn_comes_is_skipped(
    world: World,
) -> None:
    """Both posts were planned down; while the offer is being deleted the owner turns
    donations back on, so the Donate post stays."""
    channel = await posted_channel(world)
    await world.set_tiers.execute(OWNER, channel.id, ())
    await world.set_donations.execute(OWNER, channel.id, None)

    class OwnerActsMeanwhile(InMemoryMessenger):
        async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
            await world.messenger.delete(chat_id, message_id)
            if chat_id == OPEN:
                await world.set_donations.execute(
                    OWNER, channel.id, DonationBounds(usd(1), usd(500))
                )

    publish = PublishPosts(
        world.uow, world.clock, world.plan, world.record_post, world.sales, OwnerActsMeanwhile()
    )
    report = await publish.run_once()

    assert report == PublishReport(taken_down=1)
    assert offers(world) == []
    assert len(donates(world)) == 1
    assert (await world.channel_now(channel.id)).donate_post is not None


async def test_the_owner_setting_tiers_again_brings_the_offer_back(world: World) -> None:
    channel = await posted_channel(world)
    await world.set_tiers.execute(OWNER, channel.id, ())
    await world.publish.run_once()

    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(12), 30),))
    report = await world.publish.run_once()

    assert report == PublishReport(posted=1)
    shown = offers(world)
    assert len(shown) == 1
    assert "12 USD" in shown[0].message.text


async def test_a_donate_check_telegram_cannot_answer_now_is_tried_again_next_round(
    world: World,
) -> None:
    channel = await posted_channel(world)
    standing = donates(world)[0]
    world.clock.advance(HOUR)
    world.messenger.fail_next()

    assert await world.publish.run_once() == PublishReport(failed=1)
    assert await world.publish.run_once() == PublishReport(refreshed=1)
    assert donates(world) == [standing]
    stored = (await world.channel_now(channel.id)).donate_post
    assert stored is not None
    assert stored.posted_at == world.clock.now()


async def test_a_donate_check_in_a_chat_that_threw_the_bot_out_pauses_sales(
    world: World,
) -> None:
    channel = await posted_channel(world)
    world.clock.advance(HOUR)
    world.messenger.forget_chat(CLOSED)

    assert await world.publish.run_once() == PublishReport(paused=1)
    stored = await world.channel_now(channel.id)
    assert stored.sales_paused
    # Paused: both posts are planned down; the gone chat keeps its record.
    assert await world.publish.run_once() == PublishReport(taken_down=1, kept=1)
    stored = await world.channel_now(channel.id)
    assert stored.offer_post is None
    assert stored.donate_post is not None


async def test_workers_finding_the_donate_post_gone_at_once_leave_one_standing(
    world: World,
) -> None:
    channel = await posted_channel(world)
    world.messenger.someone_deletes(CLOSED, donates(world)[0].message_id)
    world.clock.advance(HOUR)

    class SlowTelegram(InMemoryMessenger):
        """Each call takes a moment, as over the network: the workers overlap."""

        async def send(self, chat_id: ChatId, message: Notice) -> MessageId:
            await asyncio.sleep(0.01)
            return await world.messenger.send(chat_id, message)

        async def edit(self, chat_id: ChatId, message_id: MessageId, message: Notice) -> None:
            await asyncio.sleep(0.01)
            await world.messenger.edit(chat_id, message_id, message)

        async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
            await world.messenger.delete(chat_id, message_id)

    publish = PublishPosts(
        world.uow, world.clock, world.plan, world.record_post, world.sales, SlowTelegram()
    )
    reports = await asyncio.gather(*(publish.run_once() for _ in range(3)))

    assert sum(r.posted for r in reports) == 1
    sent = [m for m in world.messenger.sent if m.chat_id == CLOSED]
    assert len(sent) == 4, "the first post, then each worker's (they raced)"
    shown = donates(world)
    assert len(shown) == 1
    stored = (await world.channel_now(channel.id)).donate_post
    assert stored is not None
    assert stored.message_id == shown[0].message_id
