"""The shared low layer rooms build on: counters and throttles (``throttle``).

Nothing here imports a room, ``web`` or ``api``; rooms and the HTTP layer import it.
"""
