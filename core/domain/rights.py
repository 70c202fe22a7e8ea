"""What someone may do in a chat, as Telegram reports it (getChatMember)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import attrs


class MemberStatus(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


class Right(StrEnum):
    POST_MESSAGES = "can_post_messages"
    EDIT_MESSAGES = "can_edit_messages"
    DELETE_MESSAGES = "can_delete_messages"
    INVITE_USERS = "can_invite_users"
    RESTRICT_MEMBERS = "can_restrict_members"


@attrs.frozen
class ChatRights:
    status: MemberStatus
    rights: frozenset[Right] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)

    def has(self, right: Right) -> bool:
        # The creator holds every right whether or not Telegram lists it.
        return self.status is MemberStatus.CREATOR or right in self.rights

    def missing(self, needed: frozenset[Right]) -> tuple[Right, ...]:
        if not self.is_admin:
            return tuple(sorted(needed))
        return tuple(sorted(r for r in needed if not self.has(r)))


def right_names(rights: Iterable[Right]) -> str:
    """Rights as Telegram's admin screen words them: "post messages, delete messages"."""
    return ", ".join(r.value.removeprefix("can_").replace("_", " ") for r in rights)


BOT_RIGHTS_OPEN = frozenset({Right.POST_MESSAGES, Right.DELETE_MESSAGES})
"""The bot posts and replaces the offer message in the open channel."""

BOT_RIGHTS_CLOSED = frozenset(
    {Right.INVITE_USERS, Right.RESTRICT_MEMBERS, Right.POST_MESSAGES, Right.DELETE_MESSAGES}
)
"""The bot makes invite links, answers join requests, removes members and keeps the
Donate message in the closed channel."""
