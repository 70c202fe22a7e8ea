"""Every word a dashboard template shows goes through the catalog: text between the
tags, the attributes people read and the strings a ``{{ }}`` prints are all ``_()``
(or a value), so each page reads in its reader's language. Punctuation, numbers,
variables and the product's name are not words to translate."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from adapters.inbound.http.dashboard.pages import TEMPLATES

NOT_WORDS = {"PayGate"}
"""The product's name reads the same in every language."""
LETTERS = re.compile(r"[^\W\d_]{2,}")
SHOWN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "label"}


class _Visible(HTMLParser):
    """The text of an HTML fragment a person sees (not <style> or <script>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        self.found += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.found.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.found.append(data)


def words_outside_the_catalog(source: str) -> list[str]:
    """The words ``source`` (a Jinja2 template) shows that no ``_()`` takes."""
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    html: list[str] = []
    printed: list[str] = []
    recent: list[str] = []  # the last tokens inside a {{ }}
    inside = shown = False
    depth = 0  # parentheses open in the {{ }}
    calls: list[int] = []  # the depths where catalog calls began
    for _line, kind, value in environment.lex(source):
        if kind == "data":
            html.append(value)
        elif kind == "variable_begin":
            inside, recent, shown = True, [], _shown_where("".join(html))
            depth, calls = 0, []
            html.append(" ")  # what it prints is a value, checked below
        elif kind == "variable_end":
            inside = False
        elif kind == "block_begin":
            html.append(" ")
        elif inside:
            if kind == "whitespace":
                continue
            if value == "(" and recent[-1:] in (["_"], ["n_"]):
                calls.append(depth)  # a catalog call opens: its strings are marked
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if calls and calls[-1] == depth:
                    calls.pop()
            if kind == "string" and shown and not calls:
                printed.append(value)
            recent.append(value)
    parser = _Visible()
    parser.feed("".join(html))
    parser.close()
    texts = parser.found + printed
    return [word for text in texts for word in LETTERS.findall(text) if word not in NOT_WORDS]


def _shown_where(before: str) -> bool:
    """Whether what is printed after ``before`` is read: between tags, or in an
    attribute people read (not in a URL, a class or a form field's name)."""
    if before.rfind("<") <= before.rfind(">"):
        return True
    attribute = re.search(r"([\w-]+)\s*=\s*[\"']?[^\"'<>=]*$", before)
    return attribute is not None and attribute.group(1) in SHOWN_ATTRIBUTES


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check() -> None:
    assert {p.name for p in templates()} >= {"base.html", "channels.html", "overview.html"}


@pytest.mark.parametrize("path", templates(), ids=lambda p: p.name)
def test_a_template_shows_no_word_outside_the_catalog(path: Path) -> None:
    assert words_outside_the_catalog(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("<h1>Overview</h1>", ["Overview"]),
        ('<p>{{ _("Selling") }}: {{ channel.title }} — 12.50</p>', []),
        ('<button>{{ "Resume sales" if paused else _("Pause") }}</button>', ["Resume", "sales"]),
        ('<input type="submit" value="Send">', ["Send"]),
        ('<img alt="A chart" src="x.svg">', ["chart"]),
        ("<style>body { font-family: system-ui }</style><b>PayGate</b>", []),
        ("{% if notice == 'paused' %}<p>{{ _('Paused.') }}</p>{% endif %}", []),
        ('<p>{{ n_("One day", "%(n)s days", n) }}</p>', []),
        ('<p>{{ n_("One day", "%(n)s days", n) ~ " left" }}</p>', ["left"]),
        ("{% block title %}Channels{% endblock %}", ["Channels"]),
        ("<form action=\"/x/{{ 'resume' if paused else 'pause' }}\"></form>", []),
        ("<abbr title=\"{{ 'Not translated' }}\">x</abbr>", ["Not", "translated"]),
    ],
)
def test_the_check_catches_words_written_in_place(source: str, words: list[str]) -> None:
    assert words_outside_the_catalog(source) == words
