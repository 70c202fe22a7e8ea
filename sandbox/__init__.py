"""Local emulators of the services PayGate talks to, for tests and the demo.

Real HTTP servers on loopback that the real adapters call; nothing in ``core`` or
``adapters`` imports them.
"""
