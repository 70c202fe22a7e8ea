"""Re-reading the deployment's secrets while a process runs: on SIGHUP and every
``PAYGATE_SECRETS_REFRESH_SECONDS``.

A rotated NowPayments IPN secret, Telegram webhook secret, MAC key or API signing key
(``PAYGATE_API_SIGNING_KEYS``) takes effect
without a restart: the live objects that check them (the gateway's IPN verifier, the
webhook's secret ring, the keyring) are re-keyed in place, so a request pays nothing
for it. A retiring MAC key (``KEY@date`` in ``PAYGATE_MAC_KEYS``) stops being accepted
at its date exactly: the refresher wakes then. The other secrets (bot token, API
key, encryption keys, job keys) are read at start only; a change is logged as
waiting for a restart. A re-read that fails (the store unreachable, a malformed
value) keeps the current secrets and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from adapters.inbound.http.telegram import WebhookSecretRing
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from composition.config import Config, ConfigError
from core.domain.signing import MacKeyring
from core.ports.clock import Clock
from core.ports.security import Secret

logger = logging.getLogger("paygate")

_AT_RESTART: tuple[tuple[str, Callable[[Config], Secret | None]], ...] = (
    ("PAYGATE_TELEGRAM_BOT_TOKEN", lambda c: c.telegram.token),
    ("PAYGATE_NOWPAYMENTS_API_KEY", lambda c: c.nowpayments.api_key),
    ("PAYGATE_NOWPAYMENTS_PASSWORD", lambda c: c.nowpayments.account_password),
    ("PAYGATE_ENCRYPTION_KEYS", lambda c: c.encryption_keys),
    ("PAYGATE_JOB_KEYS", lambda c: c.job_keys),
    ("PAYGATE_OIDC_CLIENT_SECRET", lambda c: c.oidc.client_secret),
)


def _same(a: Secret | None, b: Secret | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and a.reveal() == b.reveal()
    )


class SecretRefresher:
    """Keeps a process's live secrets at what the store holds now."""

    def __init__(
        self,
        config: Config,
        reload: Callable[[], Config],
        clock: Clock,
        keyring: MacKeyring,
        gateway: object,
        *,
        add_redacted: Callable[[tuple[str, ...]], None] = lambda _: None,
    ) -> None:
        """``gateway``: re-keyed when it is a NowPaymentsGateway (tests may swap in
        another). ``add_redacted``: told every secret re-read, so logs mask new ones."""
        self._config = config
        self._reload = reload
        self._clock = clock
        self._keyring = keyring
        self._gateway = gateway
        self._add_redacted = add_redacted
        self._webhook: WebhookSecretRing | None = None
        self._set_webhook: Callable[[Secret], Awaitable[None]] | None = None
        self._rekey_api: Callable[[tuple[bytes, ...]], None] | None = None
        self._wake = asyncio.Event()
        self.reloads = 0
        """Re-reads that succeeded (for tests and the log)."""

    def watch_webhook(
        self, ring: WebhookSecretRing, set_webhook: Callable[[Secret], Awaitable[None]]
    ) -> None:
        """The HTTP part serves Telegram's webhook with ``ring``; a new secret is put
        in it and given to Telegram with ``set_webhook``."""
        self._webhook, self._set_webhook = ring, set_webhook

    def watch_api_keys(self, rekey: Callable[[tuple[bytes, ...]], None]) -> None:
        """The HTTP API signs and checks access tokens with keys ``rekey`` replaces."""
        self._rekey_api = rekey

    def trigger(self) -> None:
        """Re-read now (SIGHUP)."""
        self._wake.set()

    async def refresh(self) -> bool:
        """Re-read the secrets and apply them; False if they could not be read."""
        ok = True
        try:
            fresh = await asyncio.to_thread(self._reload)
        except ConfigError as exc:
            logger.warning("secrets re-read failed, keeping the current ones: %s", exc)
            ok = False
        else:
            self._add_redacted(fresh.secret_values())
            await self._apply(self._config, fresh)
            self._config = fresh
            self.reloads += 1
            logger.info("secrets re-read from %s", fresh.secrets.value)
        self._retire_keys()
        return ok

    def _retire_keys(self) -> None:
        keys = self._config.keyring_at(self._clock.now()).keys
        if keys != self._keyring.keys:
            self._keyring.rekey(keys)
            logger.info("MAC keys changed: %d accepted, signing with the first", len(keys))

    async def _apply(self, old: Config, new: Config) -> None:
        np_old, np_new = old.nowpayments, new.nowpayments
        ipn_changed = not (
            _same(np_old.ipn_secret, np_new.ipn_secret)
            and _same(np_old.previous_ipn_secret, np_new.previous_ipn_secret)
        )
        if ipn_changed and np_new.ipn_secret is not None:
            if isinstance(self._gateway, NowPaymentsGateway):
                self._gateway.rekey_ipn(np_new.ipn_secret, np_new.previous_ipn_secret)
            logger.info("NowPayments IPN secret changed: notifications verify with the new one")
        tg_old, tg_new = old.telegram, new.telegram
        webhook_changed = not (
            _same(tg_old.webhook_secret, tg_new.webhook_secret)
            and _same(tg_old.previous_webhook_secret, tg_new.previous_webhook_secret)
        )
        if webhook_changed and tg_new.webhook_secret is not None and self._webhook is not None:
            self._webhook.rekey(tg_new.webhook_secret, tg_new.previous_webhook_secret)
            logger.info("Telegram webhook secret changed: updates verify with the new one")
            if self._set_webhook is not None and not _same(
                tg_old.webhook_secret, tg_new.webhook_secret
            ):
                await self._set_webhook(tg_new.webhook_secret)
        if (
            not _same(old.api_signing_keys, new.api_signing_keys)
            and new.api_keys
            and self._rekey_api is not None
        ):
            self._rekey_api(new.api_keys)
            logger.info(
                "API signing keys changed: %d accepted, signing with the first", len(new.api_keys)
            )
        for variable, read in _AT_RESTART:
            if not _same(read(old), read(new)):
                logger.warning("%s changed; it takes effect at the next restart", variable)

    def _next_wake(self) -> float | None:
        """Seconds until the timer or a MAC key's retirement, whichever is first."""
        now = self._clock.now()
        waits = [self._config.secrets_refresh.total_seconds() or None]
        for entry in self._config.mac_key_entries:
            if entry.until is not None and entry.until > now:
                waits.append(max(0.0, (entry.until - now).total_seconds()))
        chosen = [w for w in waits if w is not None]
        return min(chosen) if chosen else None

    async def run(self, stopping: asyncio.Event) -> None:
        """Until ``stopping``: re-read on each wake (timer, SIGHUP, a key's date)."""
        while not stopping.is_set():
            wait = self._next_wake()
            stop = asyncio.ensure_future(stopping.wait())
            wake = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({stop, wake}, timeout=wait, return_when="FIRST_COMPLETED")
            finally:
                for task in (stop, wake):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if stopping.is_set():
                return
            self._wake.clear()
            await self.refresh()
