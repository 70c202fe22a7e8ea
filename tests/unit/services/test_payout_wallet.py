from __future__ import annotations

import pytest

from core.domain.channel import PayoutWallet
from core.domain.errors import InvalidChannel, NotAuthorized
from core.domain.ids import UserId
from tests.unit.services.world import OWNER, World

BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


async def test_the_owner_sets_a_payout_wallet_it_is_stored_and_audited_masked(world: World) -> None:
    channel = await world.channel()
    saved = await world.set_wallet.execute(OWNER, channel.id, PayoutWallet.parse(" BTC ", BTC))
    assert saved.payout_wallet == PayoutWallet(BTC, "btc")
    assert (await world.channel_now(channel.id)).payout_wallet == PayoutWallet(BTC, "btc")
    assert "channel.payout_wallet_set" in await world.audit_actions()


async def test_the_owner_clears_the_payout_wallet(world: World) -> None:
    channel = await world.channel()
    await world.set_wallet.execute(OWNER, channel.id, PayoutWallet.parse("btc", BTC))
    await world.set_wallet.execute(OWNER, channel.id, None)
    assert (await world.channel_now(channel.id)).payout_wallet is None


async def test_only_the_owner_sets_the_payout_wallet(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(NotAuthorized):
        await world.set_wallet.execute(UserId(5), channel.id, PayoutWallet.parse("btc", BTC))
    assert (await world.channel_now(channel.id)).payout_wallet is None


@pytest.mark.parametrize(
    ("currency", "address"),
    [
        ("btc", "0x52908400098527886E0F7030069857D2E4169EE7"),  # an ETH address
        ("eth", "0x52908400098527886E0F7030069857D2E4169E"),  # one hex digit short
        ("xmr", "short"),
        ("xmr", "4" * 129),
        ("xmr", "48daf1rG3hE1Txap cGBsmnRwz"),
    ],
)
def test_a_malformed_address_is_refused(currency: str, address: str) -> None:
    with pytest.raises(InvalidChannel):
        PayoutWallet.parse(currency, address)


def test_the_owner_sees_the_wallet_masked() -> None:
    assert PayoutWallet.parse("btc", BTC).masked() == "BTC bc1qar…5mdq"
