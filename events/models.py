"""Imports every room's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from events.catalog import models as catalog_models
from events.mail import models as mail_models
from events.registration import models as registration_models

__all__ = ["catalog_models", "mail_models", "registration_models"]
