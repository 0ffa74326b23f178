"""Imports every room's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from events.catalog import models as catalog_models

__all__ = ["catalog_models"]
