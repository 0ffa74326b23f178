"""events: event listing and webinar registration."""

__version__ = "0.1.0"
