"""Reading a registration from a form or a JSON body: parsing and field rules, no database.

Hostile input is handled here once for both doors: control characters are dropped, lone
surrogates and over-long values are refused with a message next to their field, and HTML is
kept as text (templates escape it when shown).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from events.errors import InvalidInput

ROLES: dict[str, str] = {
    "class_teacher": "Class teacher",
    "senco": "SENCO",
    "specialist_practitioner": "Specialist practitioner",
    "support_staff": "Support staff",
    "leader": "Leader",
    "other": "Other",
}

SETTINGS: dict[str, str] = {
    "mainstream": "Mainstream",
    "special": "Special",
    "alternative_provision": "Alternative provision",
    "early_years": "Early years",
    "post_16": "Post-16",
    "other": "Other",
}

ACCESS_NEEDS: dict[str, str] = {
    "bsl": "British Sign Language interpreter",
    "live_captions": "Live captions",
    "step_free": "Step-free access",
    "hearing_loop": "Hearing loop",
    "quiet_space": "Quiet space",
    "other": "Something else",
}

CONSENTS: dict[str, str] = {
    "privacy": "I agree that the union keeps my details to manage my place and contact me "
    "about this event.",
    "access_data": "I agree that the organisers may use what I have told them about my "
    "access needs to arrange them.",
    "updates": "Tell me about future events on this topic (optional).",
}

# What templates show for each choice (a Jinja global: ``registration_choices``).
CHOICES = {"roles": ROLES, "settings": SETTINGS, "access_needs": ACCESS_NEEDS, "consents": CONSENTS}

NAME_MAX = 200
EMAIL_MAX = 254
DETAILS_MAX = 1000
_MEMBERSHIP = re.compile(r"^[A-Z]{0,3}[0-9]{5,10}$")


_EMAIL_FORMAT = "Enter an email address in the right format, like name@example.org."


def _canonical_email(value: str) -> str | None:
    """The stored form of an address, or None when it is not one.

    ``email-validator`` checks the syntax (RFC 5321/6531: UTF-8 before the ``@`` and
    internationalised domains allowed, no quoted mailbox names, no IP literals, no display
    name, a domain with a dot that is not a reserved name) and never asks DNS.

    How addresses are stored and compared (decided for issue 13 item 12): the whole address
    in lowercase, as before, and NFC; the domain in its Unicode form after IDNA's UTS 46
    mapping, whether it was typed as ``exämple.com``, ``EXÄMPLE.com`` or its A-label form
    ``xn--exmple-cua.com``. So those are one person for the one-active-registration-per-
    address rule, for alerts and for privacy requests, and people see their address as they
    would write it. The mail layer writes the A-label form into the SMTP envelope, the To
    header (when the mailbox name is ASCII) and invites (``events.kit.addresses``)."""
    lowered = unicodedata.normalize("NFC", value.strip().lower())
    if not lowered or len(lowered) > EMAIL_MAX or not lowered.isprintable():
        return None
    try:
        checked = validate_email(lowered, check_deliverability=False)
    except EmailNotValidError:
        return None
    # The mailbox name was lowered above and the domain case-folded by UTS 46; lowered
    # once more in case a normalisation step brought back a capital.
    return checked.normalized.lower()


def normalise_email(value: str) -> str:
    """The stored form of an address (see ``_canonical_email``), for comparing one typed or
    imported elsewhere (an attendance report) with stored ones; text that is not an
    address is only trimmed and lowered."""
    return _canonical_email(value) or value.strip().lower()


def parse_email(value: object, field: str = "email") -> str:
    """A normalised email address, or ``InvalidInput`` naming ``field``: the one rule for
    every form that asks for an address (registration, adding someone by hand, alerts,
    subject access, the write API and the command line)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({field: "Enter your email address."})
    address = _canonical_email(value)
    if address is None:
        raise InvalidInput({field: _EMAIL_FORMAT})
    return address


class _Unreadable(ValueError):
    pass


def _clean(value: str, *, multiline: bool = False) -> str:
    """Drop control characters (NUL included); refuse lone surrogates, which no database
    or email can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unreadable from None
    kept = []
    for ch in unicodedata.normalize("NFC", value):
        if multiline and ch == "\n":
            kept.append(ch)
        elif ch == "\t":
            kept.append(" ")
        elif unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} and ch not in "\u200d":
            continue
        else:
            kept.append(ch)
    text = "".join(kept)
    if multiline:
        return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    return " ".join(text.split())


@dataclass(frozen=True)
class RegistrationInput:
    name: str
    email: str  # normalised
    membership_number: str = ""
    role: str = ""
    setting: str = ""
    access_requirements: tuple[str, ...] = ()
    access_details: str = ""
    consents: tuple[str, ...] = ("privacy",)

    @classmethod
    def parse(
        cls,
        *,
        name: object,
        email: object,
        membership_number: object = None,
        role: object = None,
        setting: object = None,
        access_requirements: object = None,
        access_details: object = None,
        consents: object = None,
    ) -> RegistrationInput:
        """Validate every field at once; raise InvalidInput naming each field in error."""
        errors: dict[str, str] = {}

        def text(
            field: str, value: object, label: str, limit: int, *, multiline: bool = False
        ) -> str:
            if value is None:
                return ""
            if not isinstance(value, str):
                errors[field] = f"{label} must be text."
                return ""
            try:
                cleaned = _clean(value, multiline=multiline)
            except _Unreadable:
                errors[field] = f"{label} contains characters we cannot read. Please retype it."
                return ""
            if len(cleaned) > limit:
                errors[field] = f"{label} must be {limit} characters or fewer."
            return cleaned

        def choices(
            field: str, value: object, allowed: Mapping[str, str], label: str
        ) -> tuple[str, ...]:
            if value is None or value == "":
                return ()
            items: Sequence[object] = [value] if isinstance(value, str) else value  # type: ignore[assignment]
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                errors[field] = f"{label} must be a list of choices."
                return ()
            picked: list[str] = []
            for item in items:
                assert isinstance(item, str)
                if item not in allowed:
                    errors[field] = f"Choose {label.lower()} from the list."
                    return ()
                if item not in picked:
                    picked.append(item)
            return tuple(picked)

        def choice(field: str, value: object, allowed: Mapping[str, str], label: str) -> str:
            if value is None or value == "":
                return ""
            if not isinstance(value, str) or value not in allowed:
                errors[field] = f"Choose your {label} from the list."
                return ""
            return value

        clean_name = text("name", name, "Your name", NAME_MAX)
        if "name" not in errors and not clean_name:
            errors["name"] = "Enter your name."

        clean_email = text("email", email, "Email address", EMAIL_MAX)
        if "email" not in errors:
            try:
                clean_email = parse_email(clean_email)
            except InvalidInput as exc:
                errors.update(exc.fields)

        member = text("membership_number", membership_number, "Membership number", 20)
        member = member.replace(" ", "").upper()
        if member and "membership_number" not in errors and not _MEMBERSHIP.match(member):
            errors["membership_number"] = (
                "Enter your membership number as it appears on your card: 5 to 10 digits, "
                "sometimes after up to 3 letters, like 1234567."
            )

        access = choices(
            "access_requirements", access_requirements, ACCESS_NEEDS, "Access requirements"
        )
        details = text(
            "access_details",
            access_details,
            "Details of what you need",
            DETAILS_MAX,
            multiline=True,
        )
        if "other" in access and not details and "access_details" not in errors:
            errors["access_details"] = "Tell us what else you need."

        agreed = choices("consents", consents, CONSENTS, "Consents")
        if "consents" not in errors:
            if "privacy" not in agreed:
                errors["consents"] = (
                    "Agree to us keeping your details so that we can manage your place."
                )
            elif (access or details) and "access_data" not in agreed:
                errors["consents"] = (
                    "Agree to organisers using your access needs to arrange them, or remove them."
                )

        data = cls(
            name=clean_name,
            email=clean_email,
            membership_number=member,
            role=choice("role", role, ROLES, "role"),
            setting=choice("setting", setting, SETTINGS, "setting"),
            access_requirements=access,
            access_details=details,
            consents=agreed,
        )
        if errors:
            raise InvalidInput(errors)
        return data

    @classmethod
    def from_form(
        cls, form: Mapping[str, Any], lists: Mapping[str, list[str]]
    ) -> RegistrationInput:
        return cls.parse(
            name=form.get("name", ""),
            email=form.get("email", ""),
            membership_number=form.get("membership_number"),
            role=form.get("role"),
            setting=form.get("setting"),
            access_requirements=lists.get("access_requirements", []),
            access_details=form.get("access_details"),
            consents=lists.get("consents", []),
        )

    @classmethod
    def from_json(cls, body: object) -> RegistrationInput:
        if not isinstance(body, dict):
            raise InvalidInput({"body": "Send a JSON object."})
        # A form sends "" for "not given"; JSON leaves the key out or sends null, and the
        # API document's enums do not include "" (they would not match it).
        empty = {
            name: "Leave this out (or send null) rather than an empty string."
            for name in ("role", "setting")
            if body.get(name) == ""
        }
        if empty:
            raise InvalidInput(empty)
        return cls.parse(
            name=body.get("name"),
            email=body.get("email"),
            membership_number=body.get("membership_number"),
            role=body.get("role"),
            setting=body.get("setting"),
            access_requirements=body.get("access_requirements"),
            access_details=body.get("access_details"),
            consents=body.get("consents", ["privacy"]),
        )

    def is_valid_membership(self) -> bool:
        return bool(self.membership_number and _MEMBERSHIP.match(self.membership_number))
