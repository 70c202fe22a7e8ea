"""The audit chain is the core's (``AuditEvent.digest``, ``verify_chain``); the
Postgres statement that chains records where the tail is hashes text it assembles
around the tail's hash and seq (``write_behind.digest_parts``). Whatever the record,
that text hashes to the core's digest, so chains written in SQL verify in Python
(and ``tests/contract/test_audit_log.py`` verifies the chains every backend writes).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from adapters.outbound.sqla.write_behind import SEQ_JOIN, digest_parts
from core.domain.audit import AuditEvent, AuditRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)

_text = st.text(st.characters(codec="utf-8"), max_size=12)


@given(
    actor=_text,
    action=_text,
    subject=_text,
    details=st.dictionaries(_text, _text, max_size=4),
    seq=st.integers(1, 2**62),
    prev=st.binary(min_size=32, max_size=32).map(bytes.hex),
    minutes=st.integers(0, 10**7),
)
def test_the_digest_parts_around_the_tail_hash_to_the_digest(
    actor: str,
    action: str,
    subject: str,
    details: dict[str, str],
    seq: int,
    prev: str,
    minutes: int,
) -> None:
    at = NOW + timedelta(minutes=minutes, microseconds=minutes % 999_983)
    record = AuditRecord(actor, action, subject, details)
    before, after = digest_parts(at, record)

    text = before + prev + SEQ_JOIN + str(seq) + after

    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == AuditEvent.digest(
        seq, at, record, prev
    )
