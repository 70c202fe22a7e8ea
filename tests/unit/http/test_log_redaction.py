"""Secrets never reach a log line, tracebacks included: canary values go in, the
output is searched for them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from composition.logging import (
    MASK,
    JsonFormatter,
    RedactingFilter,
    Redactor,
    TextFormatter,
    configure_logging,
)

API_KEY = "CANARY-api-key-7f3e9a1b"
IPN_SECRET = "CANARY-ipn-secret-c0ffee42"
DB_PASSWORD = "CANARY-db-pass-51d2"
# Shaped like a real token (so the redactor's pattern must catch it), but assembled
# here so that no token-shaped string sits in the repository.
BOT_TOKEN = "7123456789:" + "AAH-CANARY" + "canaryCANARYcanary_12345x"
SIGNATURE = "ab12" * 32
UNREGISTERED = "CANARY-unregistered-93be"


class Capture:
    def __init__(self, redactor: Redactor, json_lines: bool = True) -> None:
        self.stream = io.StringIO()
        handler = logging.StreamHandler(self.stream)
        handler.addFilter(RedactingFilter(redactor))
        handler.setFormatter(JsonFormatter(redactor) if json_lines else TextFormatter(redactor))
        self.logger = logging.getLogger(f"paygate.canary.{id(self)}")
        self.logger.handlers = [handler]
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def entries(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def capture() -> Capture:
    return Capture(Redactor([API_KEY, IPN_SECRET, DB_PASSWORD]))


def assert_no_canary(text: str) -> None:
    for canary in (API_KEY, IPN_SECRET, DB_PASSWORD, BOT_TOKEN, SIGNATURE, UNREGISTERED):
        assert canary not in text
    assert "CANARY" not in text


def test_registered_secrets_in_messages_and_arguments_are_masked(capture: Capture) -> None:
    capture.logger.info("calling the provider with key %s", API_KEY)
    capture.logger.warning(f"secret in the format string itself: {IPN_SECRET}")

    assert_no_canary(capture.text)
    assert [e["message"] for e in capture.entries()] == [
        f"calling the provider with key {MASK}",
        f"secret in the format string itself: {MASK}",
    ]


def test_secrets_in_a_traceback_and_its_cause_are_masked(capture: Capture) -> None:
    def connect() -> None:
        try:
            raise ConnectionError(f"postgresql://paygate:{DB_PASSWORD}@db:5432/paygate refused")
        except ConnectionError as exc:
            raise RuntimeError(
                f"could not call https://api.telegram.org/bot{BOT_TOKEN}/getMe"
            ) from exc

    try:
        connect()
    except RuntimeError:
        capture.logger.exception("start-up failed")

    assert_no_canary(capture.text)
    (entry,) = capture.entries()
    exception = str(entry["exception"])
    assert "Traceback (most recent call last)" in exception
    assert f"https://api.telegram.org/bot{MASK}/getMe" in exception
    assert f"postgresql://paygate:{MASK}@db:5432/paygate" in exception


def test_unregistered_secrets_are_caught_by_their_shape(capture: Capture) -> None:
    capture.logger.info("bot token %s loaded", BOT_TOKEN)
    capture.logger.info("headers %r", {"x-api-key": UNREGISTERED, "x-nowpayments-sig": SIGNATURE})
    capture.logger.info("X-Telegram-Bot-Api-Secret-Token: %s", UNREGISTERED)
    capture.logger.info("Authorization: Bearer %s", UNREGISTERED)
    capture.logger.info("login password=%s&user=ann", UNREGISTERED)
    capture.logger.info('config {"ipn_secret": "%s", "order_id": "o1"}', UNREGISTERED)
    capture.logger.info("redis at redis://:%s@cache:6379/0", UNREGISTERED)
    capture.logger.info("signature %s did not verify", SIGNATURE)

    assert_no_canary(capture.text)
    messages = [str(e["message"]) for e in capture.entries()]
    assert messages[4] == f"login password={MASK}&user=ann"
    assert '"order_id": "o1"' in messages[5]
    assert messages[6] == f"redis at redis://:{MASK}@cache:6379/0"


def test_extra_fields_with_secret_names_are_masked_and_others_kept(capture: Capture) -> None:
    capture.logger.info(
        "notification refused",
        extra={"ipn_secret": "anything at all", "provider": "nowpayments", "note": API_KEY},
    )

    (entry,) = capture.entries()
    assert (entry["ipn_secret"], entry["provider"], entry["note"]) == (MASK, "nowpayments", MASK)


def test_secrets_registered_after_start_up_are_masked_from_then_on(capture: Capture) -> None:
    redactor = Redactor()
    late = Capture(redactor)
    redactor.add(UNREGISTERED)

    late.logger.info("loaded %s from the secret manager", UNREGISTERED)

    assert_no_canary(late.text)


def test_url_encoded_and_escaped_forms_of_a_secret_are_masked() -> None:
    secret = 'CANARY p@ss/w"rd+1'
    capture = Capture(Redactor([secret]))

    capture.logger.info("form body pw=CANARY%20p%40ss%2Fw%22rd%2B1 sent")
    capture.logger.info("payload %s", json.dumps({"x": secret}))

    assert "CANARY" not in capture.text


def test_short_values_are_not_searched_for() -> None:
    capture = Capture(Redactor(["abc"]))

    capture.logger.info("abc is not a secret worth masking")

    assert capture.entries()[0]["message"] == "abc is not a secret worth masking"


def test_text_lines_are_redacted_too() -> None:
    capture = Capture(Redactor([API_KEY]), json_lines=False)
    try:
        raise ValueError(f"bad key {API_KEY}")
    except ValueError:
        capture.logger.exception("provider call failed for %s", BOT_TOKEN)

    assert_no_canary(capture.text)
    assert "provider call failed for ***" in capture.text
    assert "ValueError: bad key ***" in capture.text


def test_ordinary_ids_and_amounts_are_left_alone(capture: Capture) -> None:
    text = "payment 5077125051 of intent 3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6 paid 0.00020125 btc"
    capture.logger.info(text)

    assert capture.entries()[0]["message"] == text


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_configured_logging_writes_redacted_json_lines_for_every_logger() -> None:
    stream = io.StringIO()
    configure_logging("INFO", secrets=[IPN_SECRET], stream=stream)

    logging.getLogger("aiohttp.server").error("handler failed with %s", IPN_SECRET)
    logging.getLogger("paygate.deep.module").info("token=%s", UNREGISTERED)
    logging.getLogger("paygate.deep.module").debug("not at INFO")

    lines = stream.getvalue().splitlines()
    assert_no_canary(stream.getvalue())
    assert [json.loads(line)["logger"] for line in lines] == [
        "aiohttp.server",
        "paygate.deep.module",
    ]


@pytest.mark.usefixtures("root_logging")
def test_process_fields_go_on_every_json_line_and_are_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging(
        "INFO",
        secrets=[IPN_SECRET],
        stream=stream,
        fields={"role": "web", "deployment": f"eu {IPN_SECRET}", "api_key": "x"},
    )

    logging.getLogger("paygate.a").info("first")
    logging.getLogger("paygate.b").info("second", extra={"role": "bot", "job": "sweep"})

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert_no_canary(stream.getvalue())
    assert (first["role"], first["deployment"], first["api_key"]) == ("web", f"eu {MASK}", MASK)
    # A record's own field wins over the process's.
    assert (second["role"], second["job"]) == ("bot", "sweep")


def test_structured_fields_holding_secret_shapes_are_masked(capture: Capture) -> None:
    capture.logger.warning(
        "update refused",
        extra={"update_id": 42, "order": f"o1 {BOT_TOKEN}", "intent": SIGNATURE, "job": None},
    )

    (entry,) = capture.entries()
    assert_no_canary(json.dumps(entry))
    assert (entry["update_id"], entry["job"]) == (42, None)
    assert entry["order"] == f"o1 {MASK}"
    assert entry["intent"] == MASK
