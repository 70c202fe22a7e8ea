"""``parse_mode=HTML`` as the Bot API reads it: the supported tags become entities of
the plain text, and anything else is refused with "can't parse entities", as Telegram
refuses it. Written apart from PayGate's own check (on the standard library's HTML
parser), so the two can disagree and the tests would show it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

__all__ = ["HtmlRefused", "parse_html"]

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
_KNOWN_ENTITIES = ("lt;", "gt;", "amp;", "quot;")
_CHARACTER = re.compile(r"&(?:[a-z]+|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class HtmlRefused(ValueError):
    """The text is not Bot API HTML; the message is Telegram's."""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text = ""
        self.entities: list[dict[str, Any]] = []
        self.open: list[tuple[str, int, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ENTITY_TYPES:
            raise HtmlRefused(f'can\'t parse entities: Unsupported start tag "{tag}"')
        extra: dict[str, Any] = {}
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not href:
                raise HtmlRefused("can't parse entities: Can't find end of a URL")
            extra["url"] = href
        self.open.append((tag, len(self.text), extra))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise HtmlRefused(f'can\'t parse entities: Unmatched end tag "{tag}"')
        name, start, extra = self.open.pop()
        if len(self.text) > start:
            self.entities.append(
                {"type": _ENTITY_TYPES[name], "offset": start, "length": len(self.text) - start}
                | extra
            )

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise HtmlRefused("can't parse entities: Unexpected < or >")
        self.text += data

    def handle_entityref(self, name: str) -> None:
        if f"{name};" not in _KNOWN_ENTITIES:
            raise HtmlRefused(f'can\'t parse entities: Unsupported HTML entity "&{name};"')
        self.text += {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name]

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
        self.text += chr(code)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and its entities. Raises HtmlRefused."""
    for found in re.finditer("&", source):
        if _CHARACTER.match(source, found.start()) is None:
            raise HtmlRefused("can't parse entities: Unsupported HTML entity")
    reader = _Reader()
    reader.feed(source)
    reader.close()  # flushes an unfinished tag as data, which handle_data refuses
    if reader.open:
        raise HtmlRefused(
            f"can't parse entities: Can't find end tag corresponding to \"{reader.open[-1][0]}\""
        )
    return reader.text, reader.entities
