"""The .env parser: what it accepts, and errors that point at a line without quoting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.outbound.secrets import DotEnvError, load_dotenv, parse_dotenv

SECRET = "s3cr3t-value-never-printed"


def test_the_usual_forms_are_read() -> None:
    text = "\n".join(
        [
            "# PayGate settings",
            "",
            "PAYGATE_PLAIN=abc",
            "export PAYGATE_EXPORTED=def",
            "PAYGATE_SPACED  =  ghi  ",
            'PAYGATE_DOUBLE="two words"',
            "PAYGATE_SINGLE='say \"hi\"'",
            "   # an indented comment",
            "PAYGATE_EMPTY=",
            'PAYGATE_EMPTY_QUOTED=""',
        ]
    )
    assert parse_dotenv(text, ".env") == {
        "PAYGATE_PLAIN": "abc",
        "PAYGATE_EXPORTED": "def",
        "PAYGATE_SPACED": "ghi",
        "PAYGATE_DOUBLE": "two words",
        "PAYGATE_SINGLE": 'say "hi"',
        "PAYGATE_EMPTY": "",
        "PAYGATE_EMPTY_QUOTED": "",
    }


def test_text_after_a_single_quoted_value_is_refused() -> None:
    # Shell-style quote concatenation ('it''s') is not supported: it reads as "it" and junk.
    with pytest.raises(DotEnvError, match=r"line 1: the value of A has text after"):
        parse_dotenv("A='it''s'", ".env")


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("A=abc # a comment", "abc"),
        ("A=abc#not-a-comment", "abc#not-a-comment"),
        ('A="abc # kept" # dropped', "abc # kept"),
        ("A='abc # kept'   # dropped", "abc # kept"),
        (r'A="line\nbreak\ttab \"quote\" back\\slash"', 'line\nbreak\ttab "quote" back\\slash'),
        (r"A='no \n escapes'", r"no \n escapes"),
        (r'A="unknown \q stays"', r"unknown \q stays"),
        ("A=a=b=c", "a=b=c"),
        ("A=it's", "it's"),
        ("export=plain", None),
    ],
)
def test_values_are_unquoted_and_comments_dropped(line: str, value: str | None) -> None:
    parsed = parse_dotenv(line, ".env")
    if value is None:
        assert parsed == {"export": "plain"}
    else:
        assert parsed == {"A": value}


def test_crlf_lines_and_a_byte_order_mark_are_tolerated() -> None:
    assert parse_dotenv("\ufeffA=1\r\nB=2\r\n", ".env") == {"A": "1", "B": "2"}


def test_a_later_definition_wins() -> None:
    assert parse_dotenv("A=1\nA=2\n", ".env") == {"A": "2"}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (f"A=1\n{SECRET}\n", 2, "expected KEY=VALUE"),
        (f"A=1\n\n# c\n1BAD={SECRET}\n", 4, "expected KEY=VALUE"),
        (f"A=1\nexport  \t{SECRET}\n", 2, "expected KEY=VALUE"),
        (f'A=1\nB="{SECRET}\n', 2, "the value of B opens a quote it never closes"),
        (f"C='{SECRET}\n", 1, "the value of C opens a quote it never closes"),
        (f'D="{SECRET}" trailing\n', 1, "the value of D has text after its closing quote"),
    ],
)
def test_a_malformed_line_is_named_by_file_and_number_without_its_value(
    text: str, line: int, reason: str
) -> None:
    with pytest.raises(DotEnvError) as caught:
        parse_dotenv(text, "/srv/paygate/.env")
    message = str(caught.value)
    assert message.startswith(f"/srv/paygate/.env, line {line}: {reason}")
    assert SECRET not in message


def test_a_missing_file_defines_nothing(tmp_path: Path) -> None:
    assert load_dotenv(tmp_path / ".env") == {}


def test_a_file_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("PAYGATE_TITLE=Café\n", encoding="utf-8")
    assert load_dotenv(path) == {"PAYGATE_TITLE": "Café"}


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\nB=\xff\xfe\n")
    with pytest.raises(DotEnvError, match=rf"^{path}, line 2: not UTF-8 text$"):
        load_dotenv(path)


def test_a_directory_in_place_of_the_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DotEnvError, match=rf"^{tmp_path}: cannot be read"):
        load_dotenv(tmp_path)
