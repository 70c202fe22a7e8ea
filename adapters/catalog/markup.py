"""Telegram's HTML subset, as owners may write it in their own wording: which tags,
which attributes, which entities, and how long the text a person sees may be.

Only the tags the Bot API's ``parse_mode=HTML`` formats are accepted (b, i, u, s,
a href, code, pre, tg-spoiler, blockquote), balanced and properly nested; every other
``<``, ``>`` and ``&`` must be written as an entity (``&lt;``, ``&gt;``, ``&amp;``,
``&quot;`` or numeric), as Telegram requires. Values put into an owner's text are
escaped, so a channel title can never add markup.
"""

from __future__ import annotations

import html
import re

__all__ = ["TAGS", "MarkupError", "check", "visible"]

TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "tg-spoiler", "blockquote"})
_PLAIN_INSIDE = frozenset({"code", "pre"})
"""Telegram formats nothing inside these (``code`` in ``pre`` aside)."""
_LINKS = ("http://", "https://", "tg://")

_TOKEN = re.compile(r"<[^<>]*>|&[^&;\s<>]*;?|[<>&]")
_OPEN = re.compile(r"<([a-z-]+)((?:\s+[a-z-]+(?:=\"[^\"]*\"|='[^']*')?)*)\s*>\Z")
_CLOSE = re.compile(r"</([a-z-]+)\s*>\Z")
_ATTRIBUTE = re.compile(r"([a-z-]+)(?:=(?:\"([^\"]*)\"|'([^']*)'))?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});\Z")


class MarkupError(ValueError):
    """The text is not in Telegram's HTML subset; ``args[0]`` names the culprit."""


def check(text: str) -> None:
    """Raises MarkupError unless ``text`` is Telegram HTML that formats as written."""
    stack: list[str] = []
    for token in _TOKEN.finditer(text):
        piece = token.group()
        if piece.startswith("&"):
            if not _ENTITY.match(piece):
                raise MarkupError(piece)
            continue
        if len(piece) == 1:
            raise MarkupError(piece)  # a bare < or > that opens no tag
        closing = _CLOSE.match(piece)
        if closing is not None:
            if not stack or stack[-1] != closing.group(1):
                raise MarkupError(piece)
            stack.pop()
            continue
        opening = _OPEN.match(piece)
        if opening is None or opening.group(1) not in TAGS:
            raise MarkupError(piece)
        tag = opening.group(1)
        if stack and stack[-1] in _PLAIN_INSIDE and not (stack[-1] == "pre" and tag == "code"):
            raise MarkupError(piece)
        if tag == "a" and "a" in stack:
            raise MarkupError(piece)
        _check_attributes(tag, opening.group(2), piece)
        stack.append(tag)
    if stack:
        raise MarkupError(f"<{stack[-1]}>")


def _check_attributes(tag: str, attributes: str, piece: str) -> None:
    found = {
        m.group(1): html.unescape(m.group(2) or m.group(3) or "")
        for m in _ATTRIBUTE.finditer(attributes)
    }
    if tag == "a":
        href = found.pop("href", "")
        if not href.startswith(_LINKS) or len(href) <= len("tg://"):
            raise MarkupError(piece)
    if tag == "blockquote":
        found.pop("expandable", None)
    if found:
        raise MarkupError(piece)


def visible(text: str) -> str:
    """What a person reads of checked markup: tags gone, entities read."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text))
