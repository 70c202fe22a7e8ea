"""Domain objects as table rows: a row holds an entity's fields under their names."""

from __future__ import annotations

from typing import Any

import attrs
from attrs import AttrsInstance


def row_of(entity: AttrsInstance, **stored: Any) -> dict[str, Any]:
    """The columns of ``entity``'s row: each field under its name, except those
    ``stored`` names, which hold the form the column keeps (an enum's value, JSON,
    an amount split from its currency)."""
    return {**attrs.asdict(entity, recurse=False), **stored}
