"""The parsers and verifiers an outsider can reach, each as a battery target.

Every target knows what the code under test may answer (its documented refusals)
and what it must never do (accept a forgery, disagree with Node). Anything else it
raises is a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from hypothesis import strategies as st

from adapters.inbound.http.signed_requests import (
    RequestRefused,
    SignedRequestVerifier,
    SigningKeys,
    sign_request,
)
from adapters.inbound.telegram.parsing import (
    DONATION_START,
    BadInput,
    OtherAmount,
    Preset,
    channel_from_resend,
    other_amount_data,
    parse_other_amount,
    parse_preset,
    preset_data,
    seller_decision_from,
    token_from,
)
from adapters.outbound.memory import FrozenClock, InMemoryNonceStore
from adapters.outbound.nowpayments.canonical import InvalidJson, canonical, canonical_bytes, parse
from adapters.outbound.nowpayments.ipn import IPN_BOUNDS, IpnVerifier
from core.domain.errors import DomainError
from core.domain.ids import ChannelId
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.domain.signing import MacKeyring
from core.ports.payments import InvalidSignature, MalformedNotification
from core.ports.security import Secret
from tests.hostile.battery import Finding, Target, crash
from tests.hostile.inputs import callback_data, hostile_texts, ipn_documents, offer_texts
from tests.unit.nowpayments.node_reference import NodeReference

__all__ = [
    "callback_parsers",
    "canonical_against_node",
    "ipn_verifier",
    "offer_tokens",
    "signed_requests",
]

T = TypeVar("T")
IPN_SECRET = "battery-ipn-secret"
OTHER_SECRET = "battery-ipn-secret-not-ours"
KEYRING = MacKeyring((b"battery-mac-key-0123456789abcdef0123",))
STRANGER_KEYRING = MacKeyring((b"someone-elses-mac-key-0123456789ab",))
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _ours(body: bytes) -> str | None:
    """Our canonical form of ``body``, or None where we refuse it."""
    try:
        return canonical_bytes(body).decode("utf-8")
    except InvalidJson:
        return None
    except Exception as error:  # anything else is a crash, reported with the input
        raise crash(body, error) from error


def canonical_against_node(node: NodeReference) -> Target:
    """Byte-identical to what Node signs, or refused; never a crash."""

    def judge(texts: list[str]) -> list[str]:
        answers = node.ask_many(texts, IPN_SECRET)
        verdicts = []
        for text, answer in zip(texts, answers, strict=True):
            ours = _ours(text.encode("utf-8", "surrogatepass"))
            if ours is None:
                verdicts.append("refused (Node too)" if not answer.ok else "refused (Node read)")
            elif not answer.ok or answer.canonical != ours:
                raise Finding("mismatch", f"{text!r:.300}: ours {ours!r:.200}, Node {answer}")
            else:
                verdicts.append("identical")
        return verdicts

    return Target("canonicaliser vs Node", st.lists(hostile_texts, min_size=1, max_size=40), judge)


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def _signatures(body: bytes, how: str, flip: int) -> str:
    """The ``x-nowpayments-sig`` an attacker (or the provider) would send."""
    document = None
    with contextlib.suppress(InvalidJson):
        document = canonical(parse(body, IPN_BOUNDS)).encode("utf-8")
    if how == "genuine" and document is not None:
        return _hmac(IPN_SECRET, document)
    if how == "genuine, flipped" and document is not None:
        genuine = _hmac(IPN_SECRET, document)
        at = flip % len(genuine)
        return genuine[:at] + ("0" if genuine[at] != "0" else "1") + genuine[at + 1 :]
    if how == "over the raw body":
        return _hmac(IPN_SECRET, body)
    if how == "another secret" and document is not None:
        return _hmac(OTHER_SECRET, document)
    if how == "empty":
        return ""
    return hashlib.sha512(body + flip.to_bytes(8, "big")).hexdigest()


def ipn_verifier() -> Target:
    """Only a signature made with our secret over the canonical form is believed; a
    body or header of any shape is refused as InvalidSignature/MalformedNotification."""
    verifier = IpnVerifier(Secret(IPN_SECRET))
    inputs = st.tuples(
        st.one_of(ipn_documents, hostile_texts).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [
                "genuine",
                "genuine",
                "genuine, flipped",
                "over the raw body",
                "another secret",
                "empty",
                "random",
            ]
        ),
        st.integers(min_value=0, max_value=2**32),
        st.sampled_from(["x-nowpayments-sig", "X-NOWPAYMENTS-SIG", "x-nowpayments-sig "]),
    )

    def judge(example: tuple[bytes, str, int, str]) -> list[str]:
        body, how, flip, header = example
        signature = _signatures(body, how, flip)
        try:
            verifier.verify(body, {header: signature})
        except InvalidSignature:
            return ["refused: signature"]
        except MalformedNotification:
            verdict = "signed, unusable"
        except Exception as error:
            raise crash(example, error) from error
        else:
            verdict = "accepted"
        # Past the signature check: it must have been made with our key over the
        # canonical form of this very body.
        try:
            genuine = _hmac(IPN_SECRET, canonical(parse(body, IPN_BOUNDS)).encode("utf-8"))
        except InvalidJson as error:
            raise Finding("forgery", f"unparsable body passed the check: {body!r:.200}") from error
        if not hmac.compare_digest(genuine, signature.strip().lower()):
            raise Finding("forgery", f"{how} signature accepted for {body!r:.200}")
        return [verdict]

    return Target("IPN signature and fields", inputs, judge)


def _settled(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (in-memory stores) to its end, here."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("the coroutine waited for something")


def callback_parsers() -> Target:
    """Every parser of callback data and of the ``/start`` payload: a value or BadInput;
    a signed button is honoured only exactly as the bot signed it."""
    channel = ChannelId("battery01")
    price = Money.of("5", "USD")
    moment = datetime(2026, 12, 7, tzinfo=UTC)
    genuine_other = other_amount_data(OtherAmount(channel, moment), KEYRING)
    genuine_preset = preset_data(Preset(channel, 1, moment), price, KEYRING)
    inputs = st.one_of(
        callback_data,
        st.builds(
            lambda data, at, char: data[:at] + char + data[at + 1 :],
            st.sampled_from([genuine_other, genuine_preset]),
            st.integers(min_value=0, max_value=40),
            st.characters(codec="ascii"),
        ),
    )
    plain = (
        lambda d: token_from(d, "c:"),
        channel_from_resend,
        seller_decision_from,
        lambda d: DONATION_START.match(d),
    )

    def judge(data: str) -> list[str]:
        verdicts = []
        for parser in plain:
            try:
                parser(data)
                verdicts.append("read")
            except BadInput:
                verdicts.append("refused")
            except Exception as error:
                raise crash(data, error) from error
        try:
            parse_other_amount(data, KEYRING)
        except BadInput:
            verdicts.append("refused")
        except Exception as error:
            raise crash(data, error) from error
        else:
            if data != genuine_other:
                raise Finding("forgery", f"other-amount button {data!r} accepted")
            verdicts.append("genuine button")
        try:
            pressed = parse_preset(data)
        except BadInput:
            verdicts.append("refused")
        except Exception as error:
            raise crash(data, error) from error
        else:
            if pressed.shows(price, KEYRING) and data != genuine_preset:
                raise Finding("forgery", f"preset button {data!r} accepted")
            verdicts.append("preset read")
        return verdicts

    return Target("callback data", inputs, judge)


def offer_tokens() -> Target:
    """``/start <token>``: an offer only when the bot signed exactly that token."""
    genuine = OfferToken(ChannelId("battery01"), 2).encode(KEYRING)
    forged = OfferToken(ChannelId("battery01"), 3).encode(STRANGER_KEYRING)
    inputs = st.one_of(
        offer_texts,
        st.sampled_from([genuine, forged]),
        st.builds(
            lambda at, char: genuine[:at] + char + genuine[at + 1 :],
            st.integers(min_value=0, max_value=len(genuine)),
            st.characters(codec="utf-8"),
        ),
    )

    def judge(text: str) -> list[str]:
        try:
            OfferToken.decode(text, KEYRING)
        except DomainError:
            return ["refused"]
        except Exception as error:
            raise crash(text, error) from error
        if text != genuine:
            raise Finding("forgery", f"offer token {text!r} accepted")
        return ["genuine"]

    return Target("deep-link offer tokens", inputs, judge)


def signed_requests() -> Target:
    """The machine routes' signed requests: only what the key signed, once, in time."""
    key = Secret("battery-signing-key-0123456789abcdef")
    keys = SigningKeys({"sched": key})
    clock = FrozenClock(NOW)
    verifier = SignedRequestVerifier(keys, InMemoryNonceStore(clock), clock)
    fields = st.sampled_from(
        ["X-PayGate-Key-Id", "X-PayGate-Timestamp", "X-PayGate-Nonce", "X-PayGate-Signature"]
    )
    inputs = st.tuples(
        st.binary(max_size=64),
        st.sampled_from(["POST", "GET", "post"]),
        st.sampled_from(["/jobs/run", "/jobs/run?x=1", "/jobs/run/", "/JOBS/run"]),
        st.integers(min_value=-400, max_value=400),
        st.dictionaries(fields, st.text(max_size=70), max_size=4),
        st.booleans(),
    )

    def judge(example: tuple[bytes, str, str, int, dict[str, str], bool]) -> list[str]:
        body, method, path, skew, overrides, replay = example
        headers = sign_request(
            "sched", key, "POST", "/jobs/run", body, timestamp=int(NOW.timestamp()) + skew
        )
        tampered = {**headers, **overrides}
        honest = (
            not any(headers[name] != value for name, value in overrides.items())
            and method.upper() == "POST"  # the method is compared as HTTP names it
            and path == "/jobs/run"
        )
        try:
            _settled(verifier.verify(method, path, tampered, body))
            if replay:
                _settled(verifier.verify(method, path, tampered, body))
        except RequestRefused as refused:
            return [f"refused: {refused.reason}"]
        except Exception as error:
            raise crash(example, error) from error
        if not honest or replay or abs(skew) > 300:
            raise Finding("forgery", f"{method} {path} {tampered} replay={replay} accepted")
        return ["accepted"]

    return Target("signed machine requests", inputs, judge)
