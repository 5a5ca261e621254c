"""Normal forms of customer contact data: e-mail addresses lower-case, phone numbers in
E.164, customer numbers upper-case. Used when storing (services) and when looking up
(selectors), so that both agree."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email


def normalise_email(value: str) -> str | None:
    """Lower-cased, stripped address, or None when it is not a valid e-mail address."""
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        return None
    return email


def normalise_phone(value: str, *, country: str = "DE") -> str | None:
    """E.164 (e.g. "+49221123456"), or None when the number cannot be valid.

    National numbers ("0221 123456") are read in the customer's country."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, (country or "DE").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_customer_number(value: str) -> str:
    """Customer numbers are stored upper-case, so that exact lookups hit the unique index."""
    return (value or "").strip().upper()
