"""The subscribe form: an email address and how often to hear."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from events.alerts.models import AlertFrequency
from events.errors import InvalidInput
from events.registration.schemas import parse_email

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
        email = ""
        try:
            email = parse_email(form.get("email", ""))
        except InvalidInput as exc:
            errors.update(exc.fields)
        raw_frequency = form.get("frequency", AlertFrequency.immediate.value)
        try:
            frequency = AlertFrequency(str(raw_frequency))
        except ValueError:
            errors["frequency"] = "Choose how often you would like to hear from us."
            frequency = AlertFrequency.immediate
        if errors:
            raise InvalidInput(errors)
        return cls(email=email, frequency=frequency)
