"""The periodic rights check and the owner's /resume: sales follow the bot's rights
in both chats, not only the ``my_chat_member`` updates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.catalog.refusals import pause_reason
from core.domain.errors import MissingRights, NotAuthorized
from core.domain.ids import UserId
from core.domain.rights import BOT_RIGHTS_OPEN, ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone
from core.services.check_rights import RightsCheckSettings
from tests.unit.services.world import CLOSED, OPEN, OWNER, World, build

EVERY_RUN = RightsCheckSettings(selling_every_runs=1)


async def test_sales_paused_by_a_refused_post_resume_at_the_next_check(world: World) -> None:
    channel = await world.channel()
    world.messenger.failures.arm(ChatGone("chat not found"), 1)
    await world.publish.run_once()
    assert (await world.channel_now(channel.id)).sales_paused

    report = await world.check_rights.run_once()

    stored = await world.channel_now(channel.id)
    assert (stored.sales_paused, stored.pause_reason) == (False, None)
    assert (report.checked, report.resumed, report.paused) == (1, 1, 0)
    assert (await world.texts_to(OWNER))[-1] == (
        "Sales of Alpha Signals are back on: the bot has the rights it needs in both chats again."
    )
    assert (await world.audit_actions())[-1] == "channel.resumed"


async def test_a_paused_channel_stays_paused_while_a_chat_lacks_rights(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "the bot lost its rights")
    world.chat.set_bot_rights(CLOSED, ChatRights(MemberStatus.MEMBER))

    report = await world.check_rights.run_once()

    assert (report.checked, report.resumed) == (1, 0)
    assert (await world.channel_now(channel.id)).pause_reason == "the bot lost its rights"


async def test_a_selling_channel_whose_rights_are_gone_is_paused_and_the_owner_told() -> None:
    world = build(rights_check=EVERY_RUN)
    channel = await world.channel()
    world.chat.set_bot_rights(
        OPEN, ChatRights(MemberStatus.ADMINISTRATOR, frozenset({Right.POST_MESSAGES}))
    )
    world.chat.forget_chat(CLOSED)

    report = await world.check_rights.run_once()

    reason = (
        "the bot lost its right to delete messages in the open channel; "
        "the bot is not in the closed channel any more"
    )
    assert (report.checked, report.paused) == (1, 1)
    stored = (await world.channel_now(channel.id)).pause_reason
    assert stored is not None
    assert stored.startswith("paygate-pause:")  # a code, worded for each reader
    assert pause_reason(stored) == reason
    assert (await world.texts_to(OWNER))[-1].startswith(
        f"Sales of Alpha Signals are paused: {reason}"
    )


async def test_a_selling_channel_is_checked_once_every_few_runs_a_paused_one_every_run() -> None:
    world = build(rights_check=RightsCheckSettings(selling_every_runs=3))
    channel = await world.channel()

    selling = [(await world.check_rights.run_once()).checked for _ in range(3)]
    await world.sales.pause_channel(channel.id, "a refused post")
    paused = [(await world.check_rights.run_once()).checked for _ in range(3)]

    assert sorted(selling) == [0, 0, 1]
    assert paused[0] == 1  # and resumed by it: selling again, checked once in three runs
    assert not (await world.channel_now(channel.id)).sales_paused


async def test_a_channel_paused_again_and_again_is_resumed_ever_more_slowly(
    world: World,
) -> None:
    """Telegram refuses its posts while getChatMember shows every right: the owner is
    not told "paused", "back on" every few minutes for ever."""
    channel = await world.channel()

    async def refused_post_then_check() -> int:
        await world.sales.pause_channel(channel.id, "the bot cannot post there")
        return (await world.check_rights.run_once()).resumed

    first = await refused_post_then_check()  # a false alarm: resumed at once
    world.clock.advance(timedelta(minutes=5))
    second = await refused_post_then_check()  # again soon: this is flapping
    world.clock.advance(timedelta(minutes=4))
    held = await refused_post_then_check()  # waits 5 minutes from the last resume
    world.clock.advance(timedelta(minutes=1))
    third = (await world.check_rights.run_once()).resumed
    world.clock.advance(timedelta(minutes=9))
    await world.sales.pause_channel(channel.id, "the bot cannot post there")
    held_longer = (await world.check_rights.run_once()).resumed  # now 10 minutes
    world.clock.advance(timedelta(minutes=1))
    fourth = (await world.check_rights.run_once()).resumed

    assert (first, second, held, third, held_longer, fourth) == (1, 1, 0, 1, 0, 1)


async def test_the_owners_resume_is_not_held_back_by_flapping(world: World) -> None:
    channel = await world.channel()
    for _ in range(3):
        await world.sales.pause_channel(channel.id, "the bot cannot post there")
        await world.check_rights.run_once()
    assert (await world.channel_now(channel.id)).sales_paused

    outcome = await world.resume_sales.execute(OWNER, channel.id)

    assert outcome.resumed


async def test_telegram_not_answering_changes_nothing_and_ends_the_run(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "a refused post")
    world.chat.fail_next(count=1)

    report = await world.check_rights.run_once()

    assert (report.checked, report.unreachable) == (0, True)
    assert (await world.channel_now(channel.id)).sales_paused
    assert (await world.check_rights.run_once()).resumed == 1


async def test_the_owner_resumes_once_both_chats_are_in_order(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "a refused post")

    outcome = await world.resume_sales.execute(OWNER, channel.id)

    assert (outcome.resumed, outcome.shortfalls) == (True, ())
    assert not (await world.channel_now(channel.id)).sales_paused
    async with world.uow() as tx:
        last = (await tx.audit.all())[-1]
    assert (last.actor, last.action) == (f"user:{OWNER}", "channel.resumed")


async def test_resume_says_what_the_bot_lacks_in_which_chat_and_keeps_sales_paused(
    world: World,
) -> None:
    channel = await world.channel()
    await world.sales.pause(OPEN, "a refused post")
    world.chat.set_bot_rights(OPEN, ChatRights(MemberStatus.ADMINISTRATOR, frozenset()))

    outcome = await world.resume_sales.execute(OWNER, channel.id)

    (gap,) = outcome.shortfalls
    assert (gap.chat_id, gap.role, gap.missing) == (OPEN, "open", tuple(sorted(BOT_RIGHTS_OPEN)))
    assert not outcome.resumed
    assert (await world.channel_now(channel.id)).sales_paused


async def test_resume_of_a_selling_channel_changes_nothing(world: World) -> None:
    channel = await world.channel()
    outcome = await world.resume_sales.execute(OWNER, channel.id)
    assert (outcome.resumed, outcome.shortfalls) == (False, ())
    assert "channel.resumed" not in await world.audit_actions()


async def test_only_the_owner_who_still_created_both_chats_may_resume(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(OPEN, "a refused post")
    with pytest.raises(NotAuthorized):
        await world.resume_sales.execute(UserId(5), channel.id)
    world.chat.set_member(CLOSED, OWNER, ChatRights(MemberStatus.ADMINISTRATOR))
    with pytest.raises(MissingRights, match=r"no_longer_creator\(which=closed"):
        await world.resume_sales.execute(OWNER, channel.id)
    assert (await world.channel_now(channel.id)).sales_paused
