"""The Standard Webhooks v1 signature and secret format, checked against the vector
published with the spec's reference library (libraries/python/tests/test_webhooks.py,
test_sign_function, in standard-webhooks/standard-webhooks)."""

from __future__ import annotations

import pytest

from adapters.outbound.alerts import WebhookSecret, sign_standard_webhook
from core.ports.security import Secret

PUBLISHED_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUBLISHED_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
PUBLISHED_TIMESTAMP = 1614265330
PUBLISHED_BODY = b'{"test": 2432232314}'
PUBLISHED_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_published_example_signs_to_the_published_signature() -> None:
    secret = WebhookSecret.parse(PUBLISHED_SECRET)

    signature = sign_standard_webhook(secret, PUBLISHED_ID, PUBLISHED_TIMESTAMP, PUBLISHED_BODY)

    assert signature == PUBLISHED_SIGNATURE


def test_one_changed_byte_of_the_body_changes_the_signature() -> None:
    secret = WebhookSecret.parse(PUBLISHED_SECRET)

    signature = sign_standard_webhook(
        secret, PUBLISHED_ID, PUBLISHED_TIMESTAMP, b'{"test": 2432232315}'
    )

    assert signature != PUBLISHED_SIGNATURE


@pytest.mark.parametrize(
    "serialized",
    [
        PUBLISHED_SECRET,
        PUBLISHED_SECRET.removeprefix("whsec_"),
        Secret(PUBLISHED_SECRET),
    ],
)
def test_the_secret_is_read_with_or_without_its_prefix(serialized: Secret | str) -> None:
    assert WebhookSecret.parse(serialized) == WebhookSecret.parse(PUBLISHED_SECRET)


def test_base64_padding_is_optional() -> None:
    padded = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQ=="

    assert WebhookSecret.parse(padded) == WebhookSecret.parse(padded.rstrip("="))
    assert WebhookSecret.parse(padded).key == b"ABCDEFGHIJKLMNOPQRSTUVWXY"


@pytest.mark.parametrize(
    ("serialized", "message"),
    [
        ("whsec_not base64!", "not base64"),
        ("whsec_" + "QUJDREVGR0g=", "24 to 64 bytes, got 8"),
        ("whsec_" + "QUFB" * 22, "24 to 64 bytes, got 66"),
    ],
)
def test_a_malformed_or_weak_secret_is_refused(serialized: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookSecret.parse(serialized)


def test_the_secret_never_shows_in_a_repr() -> None:
    secret = WebhookSecret.parse(PUBLISHED_SECRET)

    assert repr(secret) == "WebhookSecret('***')"
    assert "MfKQ" not in f"{secret}"


def test_an_id_with_the_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        sign_standard_webhook(WebhookSecret.parse(PUBLISHED_SECRET), "msg.1", 1, b"{}")
