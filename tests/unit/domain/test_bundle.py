from datetime import UTC, datetime

import pytest

from core.domain.bundle import MAX_MEMBERS, check_member
from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, NotAuthorized, Why
from core.domain.ids import ChannelId, ChatId, UserId

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWNER, OTHER = UserId(1), UserId(2)


def channel(n: int, owner: UserId = OWNER) -> Channel:
    return Channel(ChannelId(f"c{n}"), owner, ChatId(-2 * n), ChatId(-2 * n - 1), f"Room {n}", NOW)


def test_another_channel_of_the_same_owner_may_join() -> None:
    check_member(channel(1), channel(2), [ChannelId("c3")])


def test_a_channel_is_never_a_member_of_its_own_bundle() -> None:
    with pytest.raises(InvalidChannel) as refused:
        check_member(channel(1), channel(1), [])
    assert refused.value.why is Why.BUNDLE_SELF


def test_another_owners_channel_is_refused() -> None:
    with pytest.raises(NotAuthorized) as refused:
        check_member(channel(1), channel(2, OTHER), [])
    assert refused.value.why is Why.BUNDLE_OTHER_OWNER


def test_a_member_is_not_added_twice() -> None:
    with pytest.raises(InvalidChannel) as refused:
        check_member(channel(1), channel(2), [ChannelId("c2")])
    assert refused.value.why is Why.BUNDLE_HAS_ALREADY
    assert refused.value.values == {"title": "Room 2"}


def test_a_full_bundle_takes_no_more() -> None:
    full = [ChannelId(f"m{n}") for n in range(MAX_MEMBERS)]
    with pytest.raises(InvalidChannel) as refused:
        check_member(channel(1), channel(2), full)
    assert refused.value.why is Why.BUNDLE_FULL
    assert refused.value.values == {"most": MAX_MEMBERS}
    check_member(channel(1), channel(2), full[:-1])


def test_changing_a_bundle_makes_the_offer_stale() -> None:
    home = channel(1)
    before = home.tiers_version
    home.bundle_changed()
    assert home.tiers_version == before + 1
