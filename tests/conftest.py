"""Suite-wide settings."""

from __future__ import annotations

import os

# python-telegram-bot 22 warns on every RetryAfter unless told to use timedelta
# already; our adapters read both forms, so opt in and keep the output clean.
os.environ.setdefault("PTB_TIMEDELTA", "1")
