"""Everything that starts a PayGate process, in one place.

:mod:`.run` runs a role (``paygate run``, ``web``, ``bot``, ``worker``) until it is
stopped; :mod:`.process` builds the containers, starts the worker loops and the
parts a role asks for, and stops them; :mod:`.web` and :mod:`.bot` are those parts.
The CLI only parses arguments and calls :func:`.run.run_role`.
"""
