"""The dashboard in its reader's language (the owner's /language choice, else the
browser's), its refusals and stored pause reasons worded by the catalog, and the
read-only view of an owner's own wording: owner-only, the same 404 as a missing
channel for anyone else."""

from __future__ import annotations

import re

from core.domain.ids import ChannelId, ChatId
from core.domain.pause import PauseCause, PauseReason, encode
from core.ports.wordings import Wording, WordingKind
from tests.contract.http import test_dashboard as harness
from tests.contract.http.shop import OWNER
from tests.contract.http.test_dashboard import OPERATOR, OTHER_OWNER, Site, login

site = harness.site
"""The dashboard's test site (the same fixture as its own tests)."""

NONCE = re.compile(r'nonce="[^"]+"')


async def test_the_owners_chosen_language_wins_over_the_browsers(site: Site) -> None:
    await site.languages.choose(ChatId(OWNER), "es")
    await login(site, OWNER)
    page = await (await site.client.get("/dashboard", headers={"Accept-Language": "ru"})).text()
    assert '<html lang="es">' in page and "Resumen" in page


async def test_a_language_only_noted_from_telegram_leaves_the_browsers(site: Site) -> None:
    await site.languages.note(ChatId(OWNER), "es")
    await login(site, OWNER)
    page = await (await site.client.get("/dashboard", headers={"Accept-Language": "ru"})).text()
    assert '<html lang="ru">' in page and "Обзор" in page


async def test_a_refusal_reads_in_the_readers_language(site: Site) -> None:
    logged_out = await site.client.get("/dashboard", headers={"Accept-Language": "es"})
    assert logged_out.status == 403
    assert "No has iniciado sesión" in await logged_out.text()
    await site.languages.choose(ChatId(OWNER), "ru")
    await login(site, OWNER)
    missing = await site.client.get("/dashboard/channels/nochannel1/wording")
    assert missing.status == 404
    assert "Такого канала нет." in await missing.text()


async def test_a_system_pause_reason_reads_in_the_readers_language(site: Site) -> None:
    assert site.sales is not None
    reason = encode([PauseReason(PauseCause.BOT_NOT_ADMIN, "closed")])
    await site.sales.pause_channel(ChannelId(site.channel_id), reason)
    await login(site, OWNER)
    english = await (await site.client.get("/dashboard/channels")).text()
    assert "Sales paused: the bot is no longer an admin of the closed channel" in english
    russian = await (
        await site.client.get("/dashboard/channels", headers={"Accept-Language": "ru"})
    ).text()
    assert "paygate-pause" not in russian
    assert "бот больше не администратор" in russian
    assert "the bot" not in russian


async def test_the_channels_page_is_translated(site: Site) -> None:
    await login(site, OWNER)
    page = await (
        await site.client.get("/dashboard/channels", headers={"Accept-Language": "es"})
    ).text()
    assert "Canales" in page and "Vendiendo" in page and "Pausar ventas" in page
    assert f'href="/dashboard/channels/{site.channel_id}/wording"' in page


async def publish(site: Site, kind: WordingKind, language: str, text: str) -> None:
    assert site.wording is not None
    channel = ChannelId(site.channel_id)
    await site.wording.stage(Wording(channel, kind, language, text, OWNER))
    await site.wording.publish(OWNER, channel, kind, language)


async def test_an_owner_reads_their_wording_filled_with_sample_values(site: Site) -> None:
    await publish(site, WordingKind.REMINDER, "es", "<b>{title}</b> termina el {end}.")
    await publish(site, WordingKind.OFFER_BUTTON, "en", "{price} for {period}")
    await login(site, OWNER)

    answer = await site.client.get(f"/dashboard/channels/{site.channel_id}/wording")

    assert answer.status == 200
    page = await answer.text()
    assert "reminder before the end (Spanish)" in page
    assert "Alpha termina el 1 de marzo de 2027, 12:00 UTC." in page  # markup applied
    assert "&lt;b&gt;{title}&lt;/b&gt; termina el {end}." in page  # as written, escaped
    assert "10 USD for 30 days" in page
    assert "<script" not in page


async def test_an_owner_without_wording_of_their_own_is_told_so(site: Site) -> None:
    await login(site, OWNER)
    page = await (await site.client.get(f"/dashboard/channels/{site.channel_id}/wording")).text()
    assert "uses PayGate's own words in every language" in page


async def test_nobody_but_the_owner_reads_the_wording_and_it_looks_missing(site: Site) -> None:
    await publish(site, WordingKind.ENDED, "en", "Goodbye from {title}, secret plans inside")
    for someone in (OTHER_OWNER, OPERATOR):
        await login(site, someone)
        theirs = await site.client.get(f"/dashboard/channels/{site.channel_id}/wording")
        missing = await site.client.get("/dashboard/channels/nochannel1/wording")
        assert (theirs.status, missing.status) == (404, 404)
        assert NONCE.sub("", await theirs.text()) == NONCE.sub("", await missing.text())
        assert "secret plans" not in await theirs.text()
        site.client.session.cookie_jar.clear()
    answer = await site.client.get(f"/dashboard/channels/{site.channel_id}/wording")
    assert answer.status == 403  # not logged in


async def test_the_wording_page_is_read_only(site: Site) -> None:
    await login(site, OWNER)
    answer = await site.client.post(
        f"/dashboard/channels/{site.channel_id}/wording", data={"text": "x"}
    )
    assert answer.status == 405
