"""``paygate demo``: the whole journey on a laptop, on the code path production runs.

It starts local emulators of the Telegram Bot API and NowPayments (``sandbox/``),
then the monolith (HTTP, bot, workers) on a fresh SQLite file, configured exactly as
a deployment would be but pointed at the emulators. People are simulated through the
emulators only — they type commands, press buttons, pay and open links — so every
step goes through the real adapters, webhooks, outbox and workers. The clock is the
one thing the demo holds: it moves it on to reach reminders and expiry in seconds.

One module per concern: :mod:`.clock` (moving time, in this process or a fleet's
shared file), :mod:`.transcript` (what is printed), :mod:`.environment` (the
configuration pointed at the emulators), :mod:`.people` (who and which channels
exist before PayGate starts), :mod:`.stage` (what a step can do: act through the
emulators, wait for PayGate's answer), :mod:`.journey` (the steps, in order) and
:mod:`.run` (the emulators, the monolith and the journey together).
"""
