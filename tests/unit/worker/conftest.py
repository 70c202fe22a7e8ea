from __future__ import annotations

import pytest

from tests.unit.services.world import World, build


@pytest.fixture
def world() -> World:
    return build()
