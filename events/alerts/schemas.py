"""The subscribe form: an email address and how often to hear."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from events.alerts.models import AlertFrequency
from events.errors import InvalidInput
from events.registration.schemas import _EMAIL, EMAIL_MAX, normalise_email

FREQUENCIES: list[tuple[str, str]] = [
    (AlertFrequency.immediate.value, "An email for each new event"),
    (AlertFrequency.daily.value, "A daily digest of new events"),
]


@dataclass(frozen=True)
class SubscribeInput:
    email: str  # normalised
    frequency: AlertFrequency

    @classmethod
    def from_form(cls, form: Mapping[str, object]) -> SubscribeInput:
        errors: dict[str, str] = {}
        raw = form.get("email", "")
        email = normalise_email(raw) if isinstance(raw, str) else ""
        if not email:
            errors["email"] = "Enter your email address."
        elif (
            len(email) > EMAIL_MAX
            or not _EMAIL.match(email)
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in email)
        ):
            errors["email"] = "Enter an email address in the right format, like name@example.org."
        raw_frequency = form.get("frequency", AlertFrequency.immediate.value)
        try:
            frequency = AlertFrequency(str(raw_frequency))
        except ValueError:
            errors["frequency"] = "Choose how often you would like to hear from us."
            frequency = AlertFrequency.immediate
        if errors:
            raise InvalidInput(errors)
        return cls(email=email, frequency=frequency)
