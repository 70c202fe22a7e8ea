"""What the bot says to the deployment's operators (``PAYGATE_OPERATOR_IDS``), kept
apart from :mod:`texts` so the catalogue of bot texts can take it in whole."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from core.domain.channel import Channel

__all__ = ["NOT_AN_OPERATOR", "NO_OWNERS", "owners"]

NOT_AN_OPERATOR = "/owners is for the operators of this PayGate."
NO_OWNERS = "No channels are registered yet."


def _status(channel: Channel) -> str:
    if channel.sales_paused:
        reason = f": {channel.pause_reason}" if channel.pause_reason else ""
        return f"paused{reason}"
    if not channel.tiers:
        return "no tiers yet"
    return "selling"


def owners(channels: Sequence[Channel]) -> str:
    """Every owner (by Telegram user id) with their channels and each one's status,
    owners in id order, channels oldest first."""
    if not channels:
        return NO_OWNERS
    ordered = sorted(channels, key=lambda c: (c.owner_id, c.created_at, c.id))
    lines: list[str] = []
    for owner, owned in groupby(ordered, key=lambda c: c.owner_id):
        mine = list(owned)
        lines.append(f"Owner {owner} ({len(mine)} channel{'s' if len(mine) != 1 else ''}):")
        lines.extend(f"  • {channel.title} ({_status(channel)})" for channel in mine)
    return "\n".join(lines)
