"""The dashboard's wording preview: the owner reads what they published; anyone else
(another owner, an operator) is told the channel does not exist, as for a missing one."""

from __future__ import annotations

import pytest

from core.domain.errors import UnknownChannel
from core.domain.ids import ChannelId, UserId
from core.ports.wordings import Wording, WordingKind
from core.services.dashboard import Viewer
from core.services.wording_preview import WordingPreview
from tests.unit.services.world import OWNER, World


async def test_the_owner_reads_the_published_wording_only(world: World) -> None:
    channel = await world.channel()
    draft = Wording(channel.id, WordingKind.ENDED, "es", "Adiós de {title}", OWNER)
    await world.own_wording.stage(draft)
    preview = WordingPreview(world.uow, world.own_wording)
    assert (await preview.of(Viewer(OWNER), channel.id)).wordings == ()  # a draft only

    await world.own_wording.publish(OWNER, channel.id, WordingKind.ENDED, "es")
    found = await preview.of(Viewer(OWNER), channel.id)

    assert found.channel.id == channel.id
    assert [(w.kind, w.language, w.text) for w in found.wordings] == [
        (WordingKind.ENDED, "es", "Adiós de {title}")
    ]


@pytest.mark.parametrize(
    "viewer", [Viewer(UserId(4242)), Viewer(UserId(9999), operator=True)], ids=["other", "op"]
)
async def test_anyone_else_finds_no_such_channel(world: World, viewer: Viewer) -> None:
    channel = await world.channel()
    preview = WordingPreview(world.uow, world.own_wording)
    with pytest.raises(UnknownChannel) as theirs:
        await preview.of(viewer, channel.id)
    with pytest.raises(UnknownChannel) as missing:
        await preview.of(viewer, ChannelId("nochannel1"))
    assert str(theirs.value) == str(missing.value) == "no_such_channel"
