"""How the emulator writes and signs JSON the way NowPayments' JavaScript servers do.

Deliberately independent of ``adapters.outbound.nowpayments.canonical``: the emulator
plays the provider, so a bug in our verifier must not be mirrored by the signer it is
tested against. That independence is bought by restricting what the emulator ever
signs: ASCII keys that are not array indices (so Python's sort is JavaScript's),
integers within 2**53, Decimal amounts (written from the double's shortest repr, as
JavaScript does), and strings without lone surrogates. Within those limits
``json.dumps(..., ensure_ascii=False)`` writes strings exactly as ``JSON.stringify``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal

__all__ = ["js_json", "sign"]

_MAX_SAFE_INTEGER = 2**53 - 1


def js_json(value: object, *, sort_keys: bool = False) -> str:
    """``JSON.stringify(value)``, or of its recursively key-sorted copy."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"{value} would be rounded by JavaScript")
        return str(value)
    if isinstance(value, Decimal):
        return _js_amount(value)
    if isinstance(value, str):
        value.encode("utf-8")  # refuses lone surrogates
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        keys = list(value)
        for key in keys:
            if not isinstance(key, str) or not key.isascii() or key.isdigit():
                raise ValueError(f"key {key!r} is outside what the emulator signs")
        if sort_keys:
            keys.sort()
        members = (json.dumps(k) + ":" + js_json(value[k], sort_keys=sort_keys) for k in keys)
        return "{" + ",".join(members) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(js_json(item, sort_keys=sort_keys) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _js_amount(amount: Decimal) -> str:
    # The provider holds amounts as doubles; JavaScript writes a double with the
    # shortest digits that read back to it, which is what Python's repr chooses.
    # Only the notation differs: JavaScript is positional from 1e-6 up to 1e21.
    as_double = float(amount)
    if as_double != as_double or as_double in (float("inf"), float("-inf")):
        raise ValueError(f"{amount} is not a finite double")
    if as_double == 0:
        return "0"
    if 1e-6 <= abs(as_double) < 1e21:
        text = format(Decimal(repr(as_double)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    # Outside that range repr is in exponent form too, with a padded exponent.
    mantissa, _, exponent = repr(as_double).partition("e")
    power = int(exponent)
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def sign(payload: Mapping[str, object], secret: str) -> tuple[bytes, str]:
    """The body as the provider sends it (its own key order) and the hex
    HMAC-SHA512 of the key-sorted form, keyed with the IPN secret."""
    body = js_json(payload).encode("utf-8")
    signed = js_json(payload, sort_keys=True).encode("utf-8")
    signature = hmac.new(secret.encode("utf-8"), signed, hashlib.sha512).hexdigest()
    return body, signature
