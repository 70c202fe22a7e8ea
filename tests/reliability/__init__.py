"""The reliability battery (issue #23): outages under a steady load of paying IPNs,
and a backup taken under load. Each test prints its figures (``pytest -s``); ``make
reliability`` runs the full-length versions."""
