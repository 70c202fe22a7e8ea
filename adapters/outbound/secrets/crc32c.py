"""CRC32C (Castagnoli), the checksum Secret Manager sends with every payload.

The standard library has only zlib's CRC32 (a different polynomial), and a secret is a
few hundred bytes, so a table-driven loop is plenty and spares a native dependency."""

from __future__ import annotations

_POLY = 0x82F63B78  # Castagnoli polynomial, bit-reversed


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
