"""The audit trail: append-only and hash-chained, so an edited or deleted entry shows.

Each event's hash covers its own fields and the previous event's hash. The store
appends under a lock (or a unique constraint on ``seq``) so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

GENESIS_HASH = "0" * 64

_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""The JSON :meth:`AuditEvent.digest` hashes (one encoder, not one per call)."""


def _copy(details: Mapping[str, str]) -> dict[str, str]:
    return dict(details)


@attrs.frozen
class AuditRecord:
    """What a use case wants recorded: who did what to which thing."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, str] = attrs.field(factory=dict, converter=_copy)


@attrs.frozen
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, str]
    prev_hash: str
    hash: str

    @staticmethod
    def digest(
        seq: int,
        at: datetime,
        record: AuditRecord,
        prev_hash: str,
    ) -> str:
        body = _COMPACT.encode(
            {
                "seq": seq,
                "at": at.isoformat(),
                "actor": record.actor,
                "action": record.action,
                "subject": record.subject,
                "details": dict(sorted(record.details.items())),
                "prev": prev_hash,
            }
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @classmethod
    def chain(cls, previous: AuditEvent | None, at: datetime, record: AuditRecord) -> AuditEvent:
        if previous is None:
            return cls.follow(0, GENESIS_HASH, at, record)
        return cls.follow(previous.seq, previous.hash, at, record)

    @classmethod
    def follow(cls, last_seq: int, last_hash: str, at: datetime, record: AuditRecord) -> AuditEvent:
        """The event after the one numbered ``last_seq`` with hash ``last_hash`` (0 and
        the genesis hash for the first)."""
        seq = last_seq + 1
        prev_hash = last_hash
        return cls(
            seq=seq,
            at=at,
            actor=record.actor,
            action=record.action,
            subject=record.subject,
            details=dict(record.details),
            prev_hash=prev_hash,
            hash=cls.digest(seq, at, record, prev_hash),
        )

    def record(self) -> AuditRecord:
        return AuditRecord(self.actor, self.action, self.subject, self.details)


def verify_chain(events: Iterable[AuditEvent]) -> bool:
    """True if the events, in order, form an unbroken chain from the genesis hash."""
    prev_hash = GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        if event.seq != seq or event.prev_hash != prev_hash:
            return False
        if event.hash != AuditEvent.digest(event.seq, event.at, event.record(), prev_hash):
            return False
        prev_hash = event.hash
    return True
