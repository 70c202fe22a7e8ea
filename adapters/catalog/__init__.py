"""The words people read in Telegram, in one place: the catalog renders what the core
means (typed notices, :mod:`core.domain.messages`) and what the bot answers in
conversation into message text and inline keyboards, and encodes what buttons carry.

Both the bot (inbound) and the messengers (outbound) render through it, so it imports
neither. Messages are plain text (no parse mode): a channel title or an amount can
never inject markup, so nothing needs escaping.
"""
