"""What a forged IPN costs the webhook, next to a real one.

A forgery is refused (401) only once its signature was checked, and checking means
canonicalising the body the way JavaScript would and two HMACs. That work grows
with the body's values, not its bytes: a body cut from thousands of tiny numbers
costs a hundred times a real notification of the same size. So the webhook caps the
body (``HttpSettings.ipn_body_limit``) and the verifier refuses, before any of that
work, a body whose shape no notification has (``IPN_BOUNDS``).

Printed, in CPU time per request of the verifier (the HTTP edge around it costs the
same for every body):

* a real IPN as the emulator sends it, signed, checked with two secrets (rotation);
* each forged shape, the largest of it that the old edge took (64 KiB, no bounds) and
  the largest the new one takes (the new cap, with the bounds): many numbers, many
  keys, deep nesting, long strings and numbers, escapes. Shapes are built to just
  pass the bounds where they can, so "new" is the worst that still gets canonicalised
  and hashed, not only the cheap refusals.

Prints figures; it is not a test.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from adapters.inbound.http.app import HttpSettings
from adapters.outbound.nowpayments.canonical import canonical, parse
from adapters.outbound.nowpayments.ipn import IPN_BOUNDS, IpnVerifier, notification_from_payment
from bench.bench_ipn_verify import _body as real_ipn
from core.ports.payments import InvalidSignature
from core.ports.security import Secret

OLD_CAP = 64 * 1024
NEW_CAP = HttpSettings().ipn_body_limit
FORGED_SIGNATURE = {"x-nowpayments-sig": "ab" * 64}
MIN_SECONDS = 0.3
ASTRAL_KEY = "\U0001f600" + "\ue000" * 40
"""Keys that sort differently by UTF-16 units than by code points (the slow path)."""


def _fill(cap: int, head: bytes, item: Callable[[int], bytes], tail: bytes, limit: int) -> bytes:
    """``head`` + items separated by commas + ``tail``, as many items as fit in ``cap``
    bytes and ``limit`` items."""
    items: list[bytes] = []
    size = len(head) + len(tail)
    for i in range(limit):
        piece = item(i)
        if size + len(piece) + 1 > cap:
            break
        items.append(piece)
        size += len(piece) + 1
    return head + b",".join(items) + tail


def _shapes(cap: int, bounded: bool) -> dict[str, bytes]:
    """The costliest body of each shape within ``cap`` (and, when ``bounded``, within
    IPN_BOUNDS, so that it is canonicalised and hashed rather than refused early)."""
    values = IPN_BOUNDS.max_values - 2 if bounded else 10**9
    number = IPN_BOUNDS.max_number if bounded else 400
    string = IPN_BOUNDS.max_string if bounded else cap - 8
    escapes = IPN_BOUNDS.max_escapes if bounded else cap
    depth = IPN_BOUNDS.max_depth if bounded else 64
    long_float = b"0." + b"1234567" * (number // 7 - 1) + b"e-9"
    return {
        "many tiny floats": _fill(cap, b"[", lambda _: b"1e-9", b"]", values),
        "many integers": _fill(cap, b"[", lambda _: b"1", b"]", values),
        "many keys, one object": _fill(cap, b"{", lambda i: b'"%d":1' % i, b"}", values),
        "many small objects": _fill(cap, b"[", lambda i: b'{"b":%d,"a":1}' % i, b"]", values // 3),
        "astral keys": _fill(
            cap,
            b"{",
            lambda i: f'"{ASTRAL_KEY}{i}":1'.encode(),
            b"}",
            values,
        ),
        "long floats": _fill(cap, b"[", lambda _: long_float, b"]", values),
        "lone surrogates": b'["' + b"\\ud800a" * min(escapes, (cap - 8) // 7) + b'"]',
        "long plain strings": _fill(
            cap, b"[", lambda _: b'"' + b"x" * (string - 2) + b'"', b"]", values
        ),
        "deep nesting": b"[" * depth + b"]" * depth,
    }


def _cpu_per_call(call: Callable[[], object]) -> float:
    """CPU seconds per call, over at least MIN_SECONDS of CPU."""
    rounds = 1
    while True:
        start = time.process_time()
        for _ in range(rounds):
            call()
        spent = time.process_time() - start
        if spent >= MIN_SECONDS:
            return spent / rounds
        rounds *= 2


def _old_verify(body: bytes, headers: dict[str, str]) -> Callable[[], object]:
    """What the verifier did before the bounds: parse, canonicalise, two HMACs, and
    read the fields when one matched."""
    signature = bytes.fromhex(headers["x-nowpayments-sig"])

    def call() -> object:
        try:
            document = parse(body)
        except ValueError:
            return None
        message = canonical(document).encode()
        matched = False
        for key in (b"current-secret", b"previous-secret"):
            expected = hmac.new(key, message, hashlib.sha512).digest()
            matched |= hmac.compare_digest(expected, signature)
        return notification_from_payment(document) if matched else None

    return call


def _new_verify(
    verifier: IpnVerifier, body: bytes, headers: dict[str, str]
) -> Callable[[], object]:
    def call() -> object:
        try:
            return verifier.verify(body, headers)
        except InvalidSignature as exc:
            return exc

    return call


def _outcome(verifier: IpnVerifier, body: bytes) -> str:
    if len(body) > NEW_CAP:
        return "413"
    try:
        verifier.verify(body, FORGED_SIGNATURE)
    except InvalidSignature as exc:
        return "refused early" if "shape" in str(exc) else "hashed, 401"
    return "accepted?!"


def main() -> None:
    verifier = IpnVerifier(Secret("current-secret"), previous=Secret("previous-secret"))
    body, headers = real_ipn()
    real = _cpu_per_call(_new_verify(verifier, body, headers))
    real_old = _cpu_per_call(_old_verify(body, headers))
    print(f"body cap: {OLD_CAP} bytes before, {NEW_CAP} now; bounds: {IPN_BOUNDS}")  # noqa: T201
    print(  # noqa: T201
        f"real IPN ({len(body)} bytes): {real * 1e6:.1f} us now, {real_old * 1e6:.1f} us before"
    )
    print(f"{'forged shape':24} {'before':>22} {'now':>36}")  # noqa: T201
    worst = 0.0
    old_shapes, new_shapes = _shapes(OLD_CAP, bounded=False), _shapes(NEW_CAP, bounded=True)
    for name, old_body in old_shapes.items():
        new_body = new_shapes[name]
        before = _cpu_per_call(_old_verify(old_body, FORGED_SIGNATURE))
        now = _cpu_per_call(_new_verify(verifier, new_body, FORGED_SIGNATURE))
        worst = max(worst, now)
        print(  # noqa: T201
            f"{name:24} {len(old_body):6} B {before * 1e3:8.3f} ms"
            f"   {len(new_body):6} B {now * 1e3:8.3f} ms {_outcome(verifier, new_body):>14}"
        )
    print(  # noqa: T201
        f"worst forged now: {worst * 1e3:.3f} ms, "
        f"{worst / real:.1f}x a real IPN's {real * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
