"""Secrets from the environment (with .env fallback) and from mounted files."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.outbound.secrets import (
    EnvSecretStore,
    FileSecretStore,
    SecretStoreRefused,
    env_var_for,
)
from core.ports.errors import NotFound
from core.ports.security import Secret

TOKEN = "123456:AAE-bot-token-value"


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("bot_token", "PAYGATE_BOT_TOKEN"),
        ("IPN_SECRET", "PAYGATE_IPN_SECRET"),
        ("k2", "PAYGATE_K2"),
    ],
)
def test_a_secret_name_maps_to_its_variable(name: str, variable: str) -> None:
    assert env_var_for(name) == variable


@pytest.mark.parametrize("name", ["", "../etc/passwd", "bot-token", "1st", "a b", "x" * 101])
async def test_a_malformed_name_is_a_bug_not_a_missing_secret(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a secret name is a letter"):
        await EnvSecretStore({}).get(name)
    with pytest.raises(ValueError, match="a secret name is a letter"):
        await FileSecretStore(tmp_path).get(name)


# ---------------------------------------------------------------- environment and .env


def dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_secret_comes_from_the_environment_wrapped() -> None:
    secret = await EnvSecretStore({"PAYGATE_BOT_TOKEN": TOKEN}).get("bot_token")
    assert isinstance(secret, Secret)
    assert secret.reveal() == TOKEN
    assert TOKEN not in repr(secret)


async def test_the_dotenv_file_fills_in_what_the_environment_lacks(tmp_path: Path) -> None:
    path = dotenv(tmp_path, f"export PAYGATE_BOT_TOKEN='{TOKEN}'\nPAYGATE_IPN_SECRET=file\n")
    store = EnvSecretStore({"PAYGATE_IPN_SECRET": "environment"}, path)
    assert (await store.get("bot_token")).reveal() == TOKEN
    assert (await store.get("ipn_secret")).reveal() == "environment"


async def test_a_missing_secret_names_the_variable_and_the_places_looked(tmp_path: Path) -> None:
    path = dotenv(tmp_path, "PAYGATE_OTHER=x\n")
    with pytest.raises(NotFound) as caught:
        await EnvSecretStore({}, path).get("bot_token")
    assert str(caught.value) == (
        f"secret 'bot_token' is missing: PAYGATE_BOT_TOKEN is not set in the environment "
        f"nor in {path}"
    )


async def test_without_a_dotenv_only_the_environment_is_named() -> None:
    with pytest.raises(NotFound, match=r"PAYGATE_BOT_TOKEN is not set in the environment$"):
        await EnvSecretStore({"BOT_TOKEN": TOKEN}).get("bot_token")


async def test_an_absent_dotenv_file_is_no_error(tmp_path: Path) -> None:
    store = EnvSecretStore({"PAYGATE_BOT_TOKEN": TOKEN}, tmp_path / ".env")
    assert (await store.get("bot_token")).reveal() == TOKEN


async def test_an_empty_value_counts_as_missing_and_says_where(tmp_path: Path) -> None:
    path = dotenv(tmp_path, "PAYGATE_IPN_SECRET=\n")
    store = EnvSecretStore({"PAYGATE_BOT_TOKEN": ""}, path)
    with pytest.raises(NotFound, match=r"PAYGATE_BOT_TOKEN is empty in the environment$"):
        await store.get("bot_token")
    with pytest.raises(NotFound, match=rf"PAYGATE_IPN_SECRET is empty in {path}$"):
        await store.get("ipn_secret")


async def test_the_environment_is_read_at_each_call() -> None:
    environ = {"PAYGATE_BOT_TOKEN": "old"}
    store = EnvSecretStore(environ)
    environ["PAYGATE_BOT_TOKEN"] = "new"
    assert (await store.get("bot_token")).reveal() == "new"


def test_a_malformed_dotenv_stops_construction_without_leaking(tmp_path: Path) -> None:
    path = dotenv(tmp_path, f"PAYGATE_A=1\nPAYGATE_BOT_TOKEN {TOKEN}\n")
    with pytest.raises(ValueError, match=rf"^{path}, line 2: expected KEY=VALUE") as caught:
        EnvSecretStore({}, path)
    assert TOKEN not in str(caught.value)


# ---------------------------------------------------------------- mounted files


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"abc\n", "abc"),
        (b"abc\r\n", "abc"),
        (b"abc\n\n", "abc"),
        (b"abc", "abc"),
        (b"  spaced  \n", "  spaced  "),
        (b"-----BEGIN-----\nbody\n-----END-----\n", "-----BEGIN-----\nbody\n-----END-----"),
    ],
)
async def test_a_file_holds_one_secret_without_its_trailing_newline(
    tmp_path: Path, content: bytes, value: str
) -> None:
    (tmp_path / "bot_token").write_bytes(content)
    assert (await FileSecretStore(tmp_path).get("bot_token")).reveal() == value


async def test_a_symlinked_file_is_followed_as_kubernetes_mounts_it(tmp_path: Path) -> None:
    data = tmp_path / "..data"
    data.mkdir()
    (data / "bot_token").write_text(TOKEN, encoding="utf-8")
    (tmp_path / "bot_token").symlink_to(data / "bot_token")
    assert (await FileSecretStore(tmp_path).get("bot_token")).reveal() == TOKEN


async def test_a_rewritten_file_is_seen_at_the_next_call(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path)
    (tmp_path / "bot_token").write_text("old\n", encoding="utf-8")
    assert (await store.get("bot_token")).reveal() == "old"
    (tmp_path / "bot_token").write_text("new\n", encoding="utf-8")
    assert (await store.get("bot_token")).reveal() == "new"


async def test_a_missing_file_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as caught:
        await FileSecretStore(tmp_path).get("bot_token")
    assert str(caught.value) == f"secret 'bot_token' is missing: no file {tmp_path / 'bot_token'}"


async def test_a_missing_directory_is_named_as_such(tmp_path: Path) -> None:
    absent = tmp_path / "run" / "secrets"
    with pytest.raises(NotFound, match=rf"the secrets directory {absent} does not exist$"):
        await FileSecretStore(absent).get("bot_token")


async def test_an_empty_file_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / "bot_token").write_bytes(b"\n")
    with pytest.raises(NotFound, match=r"bot_token is empty$"):
        await FileSecretStore(tmp_path).get("bot_token")


async def test_a_directory_where_the_file_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bot_token").mkdir()
    with pytest.raises(SecretStoreRefused, match=r"bot_token is a directory$"):
        await FileSecretStore(tmp_path).get("bot_token")


async def test_a_file_that_is_not_utf8_is_refused_without_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "bot_token").write_bytes(b"\xffsecret\xfe")
    with pytest.raises(SecretStoreRefused, match=r"is not UTF-8 text$") as caught:
        await FileSecretStore(tmp_path).get("bot_token")
    assert "secret\\" not in str(caught.value)
