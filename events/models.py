"""Imports every room's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from events.alerts import models as alerts_models
from events.audit import models as audit_models
from events.catalog import models as catalog_models
from events.kit import models as kit_models
from events.mail import models as mail_models
from events.organiser import models as organiser_models
from events.privacy import models as privacy_models
from events.registration import models as registration_models

__all__ = [
    "alerts_models",
    "audit_models",
    "catalog_models",
    "kit_models",
    "mail_models",
    "organiser_models",
    "privacy_models",
    "registration_models",
]
