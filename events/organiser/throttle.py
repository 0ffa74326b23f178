"""Moved to ``events.kit.throttle`` (a shared low layer: web and every room count with it).

Kept only as a re-export of ``purge`` for ``events/mail/worker.py`` until that file imports
``events.kit.throttle`` itself; new code imports the kit.
"""

from events.kit.throttle import purge

__all__ = ["purge"]
