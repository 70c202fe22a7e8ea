"""The newest shipped schema revision, in one place: a new migration moves it here and
every SQL test that checks "at the newest revision" follows."""

from __future__ import annotations

SHIPPED = (
    *("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"),
    *("0009", "0010", "0011", "0012", "0013", "0014", "0015", "0016"),
    "0017",
)
HEAD = SHIPPED[-1]
